using System.Buffers.Binary;
using AgVas.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Tests.Checkpoints;

/// <summary>The corpus of bad files: each must give a one-line CheckpointException naming the file (and the tensor
/// where one is involved), never a crash or a large allocation.</summary>
public class SafeTensorsMalformedTests
{
    private const string F32x2 = "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

    public static TheoryData<string, byte[], string[]> Corpus => new()
    {
        { "empty", [], ["too short"] },
        { "five-bytes", [1, 2, 3, 4, 5], ["too short"] },
        { "length-only", RawSafeTensors.Build("", 0), ["header is empty"] },
        { "header-2^60", RawSafeTensors.Build("{}", new byte[6], claimedLength: 1UL << 60), ["exceeds the 100000000-byte cap"] },
        { "header-2^64-1", RawSafeTensors.Build("{}", new byte[6], claimedLength: ulong.MaxValue), ["exceeds the 100000000-byte cap"] },
        { "header-past-eof", RawSafeTensors.Build("{}", new byte[6], claimedLength: 50_000_000), ["exceeds the", "truncated"] },
        { "truncated-header", RawSafeTensors.Build("{\"a\":" + F32x2 + "}", [], claimedLength: 200), ["truncated"] },
        { "malformed-json", RawSafeTensors.Build("{\"a\": {\"dtype\": ", 0), ["not valid JSON"] },
        { "trailing-garbage-json", RawSafeTensors.Build("{}}", 0), ["not valid JSON"] },
        { "nul-padding", RawSafeTensors.Build("{}\0\0\0\0\0\0", 0), ["not valid JSON"] },
        { "not-utf8", RawSafeTensors.Build("{\"\u00ff\":1}", 0).Select(b => b == 0xC3 ? (byte)0xC0 : b).ToArray(), ["not valid UTF-8"] },
        { "array-header", RawSafeTensors.Build("[1,2]", 0), ["is a JSON array, not an object"] },
        { "string-header", RawSafeTensors.Build("\"x\"", 0), ["is a JSON string, not an object"] },
        { "null-header", RawSafeTensors.Build("null", 0), ["is a JSON null, not an object"] },
        { "duplicate-name", RawSafeTensors.Build("{\"a\":" + F32x2 + ",\"a\":" + F32x2 + "}", 8), ["duplicate tensor name 'a'"] },
        { "duplicate-field", RawSafeTensors.Build("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8), ["'a'", "duplicate field \"dtype\""] },
        { "entry-not-object", RawSafeTensors.Build("{\"a\":[1]}", 0), ["'a'", "not an object"] },
        { "unknown-dtype", RawSafeTensors.Build("{\"a\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8), ["'a'", "unknown dtype 'Q4'"] },
        { "unsupported-dtype", RawSafeTensors.Build("{\"a\":{\"dtype\":\"F8_E8M0\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2), ["'a'", "'F8_E8M0' is not supported"] },
        { "dtype-not-string", RawSafeTensors.Build("{\"a\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}", 8), ["'a'", "\"dtype\" is not a string"] },
        { "missing-dtype", RawSafeTensors.Build("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8), ["'a'", "missing \"dtype\""] },
        { "missing-shape", RawSafeTensors.Build("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8), ["'a'", "missing \"shape\""] },
        { "missing-offsets", RawSafeTensors.Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8), ["'a'", "missing \"data_offsets\""] },
        { "negative-shape", RawSafeTensors.Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1,2],\"data_offsets\":[0,8]}}", 8), ["'a'", "\"shape\"", "-1"] },
        { "fractional-shape", RawSafeTensors.Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8), ["'a'", "\"shape\"", "2.5"] },
        { "float-shape", RawSafeTensors.Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8), ["'a'", "\"shape\"", "2.0"] },
        { "string-shape", RawSafeTensors.Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", 8), ["'a'", "\"shape\""] },
        { "shape-not-array", RawSafeTensors.Build("{\"a\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8), ["'a'", "\"shape\" must be an array"] },
        { "huge-shape-number", RawSafeTensors.Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[18446744073709551616],\"data_offsets\":[0,8]}}", 8), ["'a'", "\"shape\""] },
        { "shape-overflow", RawSafeTensors.Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8), ["'a'", "overflows"] },
        { "offsets-arity", RawSafeTensors.Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8]}}", 8), ["'a'", "[begin, end]"] },
        { "negative-offset", RawSafeTensors.Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 8), ["'a'", "\"data_offsets\""] },
        { "end-before-begin", RawSafeTensors.Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8), ["'a'", "end before begin"] },
        { "offsets-out-of-range", RawSafeTensors.Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[256],\"data_offsets\":[0,1024]}}", 8), ["'a'", "run past the end"] },
        { "truncated-data", RawSafeTensors.Build("{\"a\":" + F32x2 + "}", 5), ["'a'", "run past the end", "truncated"] },
        { "overlap", RawSafeTensors.Build("{\"a\":" + F32x2 + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12), ["'b'", "overlap tensor 'a'"] },
        { "same-region", RawSafeTensors.Build("{\"a\":" + F32x2 + ",\"b\":" + F32x2 + "}", 8), ["overlap tensor"] },
        { "hole", RawSafeTensors.Build("{\"a\":" + F32x2 + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", 20), ["'b'", "hole of 4 bytes"] },
        { "hole-at-start", RawSafeTensors.Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12), ["'a'", "hole of 4 bytes"] },
        { "trailing-bytes", RawSafeTensors.Build("{\"a\":" + F32x2 + "}", 9), ["1 trailing bytes"] },
        { "size-mismatch", RawSafeTensors.Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 20), ["'a'", "needs 24 bytes", "span 20"] },
        { "metadata-not-object", RawSafeTensors.Build("{\"__metadata__\":[\"x\"]}", 0), ["\"__metadata__\" is a JSON array"] },
        { "metadata-not-string", RawSafeTensors.Build("{\"__metadata__\":{\"epoch\":3}}", 0), ["'epoch'", "not a string"] },
        { "metadata-duplicate", RawSafeTensors.Build("{\"__metadata__\":{},\"__metadata__\":{}}", 0), ["duplicate \"__metadata__\""] },
    };

    private static CheckpointException AssertRejected(string path, Action open, params string[] fragments)
    {
        var ex = Assert.Throws<CheckpointException>(open);
        Assert.StartsWith(path + ": ", ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
        Assert.DoesNotContain('\r', ex.Message);
        foreach (var fragment in fragments) Assert.Contains(fragment, ex.Message);
        return ex;
    }

    [Theory]
    [MemberData(nameof(Corpus))]
    public void BadFilesGiveOneLineErrorsNamingTheFile(string name, byte[] bytes, string[] fragments)
    {
        using var dir = new TempDir();
        var path = dir.File(name + ".safetensors");
        File.WriteAllBytes(path, bytes);
        AssertRejected(path, () => SafeTensorsFile.Open(path).Dispose(), fragments);
        AssertRejected(path, () => TensorSource.Open(path).Dispose(), fragments);
    }

    [Theory]
    [InlineData(1UL << 60)]
    [InlineData(99_999_999UL)] // under the cap, but beyond the file
    public void AHugeClaimedHeaderIsRejectedWithoutAllocating(ulong claimed)
    {
        using var dir = new TempDir();
        var path = dir.File("huge.safetensors");
        File.WriteAllBytes(path, RawSafeTensors.Build("{}", new byte[6], claimedLength: claimed));
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<CheckpointException>(() => SafeTensorsFile.Open(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes");
    }

    [Fact]
    public void AMissingFileIsNamed()
    {
        AssertRejected("/nonexistent/x.safetensors", () => SafeTensorsFile.Open("/nonexistent/x.safetensors"), "cannot open");
        AssertRejected("/nonexistent/dir", () => TensorSource.Open("/nonexistent/dir"), "no such file or directory");
    }

    [Fact]
    public void U64AboveInt64IsRejectedNamingTheTensor()
    {
        using var dir = new TempDir();
        var path = dir.File("u64.safetensors");
        var data = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(data, 5);
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(8), 1UL << 63);
        File.WriteAllBytes(path, RawSafeTensors.Build("{\"big\":{\"dtype\":\"U64\",\"shape\":[2],\"data_offsets\":[0,16]}}", data));
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(SafeTensorsDtype.U64, file.Entries["big"].Dtype);
        AssertRejected(path, () => file.Load("big"), "'big'", "U64", "9223372036854775808");
        AssertRejected(path, () => file.Load("absent"), "no tensor named 'absent'");
    }

    [Fact]
    public void BoolBytesOtherThanZeroOrOneAreRejected()
    {
        using var dir = new TempDir();
        var path = dir.File("bool.safetensors");
        File.WriteAllBytes(path, RawSafeTensors.Build("{\"flags\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[0,3]}}", [1, 0, 2]));
        using var file = SafeTensorsFile.Open(path);
        AssertRejected(path, () => file.Load("flags"), "'flags'", "BOOL byte 2 at element 2");
    }

    [Fact]
    public void WideningTensorsLargerThanTheIoChunkLoadExactly()
    {
        using var dir = new TempDir();
        var path = dir.File("u16.safetensors");
        const int count = 9 << 20; // 18 MB of U16: two 16 MB chunks
        var data = new byte[count * 2];
        for (int i = 0; i < count; i++) BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(2 * i), (ushort)(i * 7919));
        File.WriteAllBytes(path, RawSafeTensors.Build($"{{\"u\":{{\"dtype\":\"U16\",\"shape\":[{count}],\"data_offsets\":[0,{count * 2}]}}}}", data));
        using var file = SafeTensorsFile.Open(path);
        using var t = file.Load("u");
        Assert.Equal(ScalarType.Int32, t.dtype);
        var values = t.data<int>().ToArray();
        for (int i = 0; i < count; i++)
            if (values[i] != (ushort)(i * 7919)) Assert.Fail($"element {i}: {values[i]}");
    }

    private static void WriteCheckpoint(string directory, params string[] namesPerShard)
    {
        using var scope = NewDisposeScope();
        var tensors = namesPerShard.Select(n => new KeyValuePair<string, Tensor>(n, ones(4))).ToList();
        SafeTensors.WriteSharded(directory, tensors, maxShardBytes: 16);
    }

    [Fact]
    public void AnIndexNamingAMissingShardIsRejectedAtOpen()
    {
        using var dir = new TempDir();
        WriteCheckpoint(dir.Path, "a", "b", "c");
        File.Delete(dir.File("model-00002-of-00003.safetensors"));
        var index = dir.File("model.safetensors.index.json");
        AssertRejected(index, () => TensorSource.Open(dir.Path), "shard 'model-00002-of-00003.safetensors'", "'b'", "does not exist");
    }

    [Fact]
    public void ATensorMissingFromItsShardIsRejectedWhenTheShardOpens()
    {
        using var dir = new TempDir();
        WriteCheckpoint(dir.Path, "a", "b");
        var index = dir.File("model.safetensors.index.json");
        File.WriteAllText(index, File.ReadAllText(index).Replace("\"b\": \"model-00002-of-00002.safetensors\"",
            "\"b\": \"model-00002-of-00002.safetensors\",\n    \"ghost\": \"model-00002-of-00002.safetensors\""));
        using var source = TensorSource.Open(dir.Path);
        Assert.Contains("ghost", source.Names);
        using (var a = source.Load("a")) Assert.Equal([4L], a.shape); // the first shard is fine
        var shard = dir.File("model-00002-of-00002.safetensors");
        AssertRejected(shard, () => source.Load("b"), "'ghost'", "missing from this shard", "model.safetensors.index.json");
        AssertRejected(shard, source.Validate, "'ghost'");
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("[]", "no \"weight_map\"")]
    [InlineData("{\"metadata\":{}}", "no \"weight_map\"")]
    [InlineData("{\"weight_map\":{\"a\":3}}", "'a'")]
    [InlineData("{\"weight_map\":{\"a\":\"../model-00001-of-00002.safetensors\"}}", "not a file beside the index")]
    [InlineData("{\"weight_map\":{\"a\":\"/etc/passwd\"}}", "not a file beside the index")]
    [InlineData("{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\",\"a\":\"model-00001-of-00002.safetensors\"}}", "duplicate tensor name 'a'")]
    public void BadIndexFilesAreRejected(string json, string fragment)
    {
        using var dir = new TempDir();
        WriteCheckpoint(dir.Path, "a", "b");
        var index = dir.File("model.safetensors.index.json");
        File.WriteAllText(index, json);
        AssertRejected(index, () => TensorSource.Open(index), fragment);
    }

    [Fact]
    public void DirectoriesResolveAsTransformersDoes()
    {
        using var dir = new TempDir();
        AssertRejected(dir.Path, () => TensorSource.Open(dir.Path), "no model.safetensors");
        using (var x = ones(1))
        {
            SafeTensors.Write(dir.File("weights.safetensors"), [new("lone", x)]);
            using (var lone = TensorSource.Open(dir.Path)) Assert.Equal(["lone"], lone.Names);
            SafeTensors.Write(dir.File("other.safetensors"), [new("other", x)]);
            AssertRejected(dir.Path, () => TensorSource.Open(dir.Path), "2 *.safetensors files");
            WriteCheckpoint(dir.Path, "a", "b");
            using (var sharded = TensorSource.Open(dir.Path)) Assert.Equal(["a", "b"], sharded.Names.Order());
            SafeTensors.Write(dir.File("model.safetensors"), [new("single", x)]);
            using var single = TensorSource.Open(dir.Path);
            Assert.Equal(["single"], single.Names);
            AssertRejected(single.Path, () => single.Load("absent"), "no tensor named 'absent'");
        }
    }
}
