using System.Runtime.InteropServices;
using System.Text.Json;
using AgVas.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Tests.Checkpoints;

/// <summary>Files made by tools/golden/safetensors_make.py, an independent Python implementation of the reference
/// writer (its own self-test reproduces the reference's test vectors): we read them exactly and write them byte-for-byte.</summary>
public class SafeTensorsGoldenTests
{
    /// <summary>The loaded tensor as the script states it: integers for integer and bool types, bit patterns for floats.</summary>
    private static long[] ValuesOf(Tensor t)
    {
        if (t.numel() == 0) return [];
        return t.dtype switch
        {
            ScalarType.Float16 or ScalarType.BFloat16 => MemoryMarshal.Cast<byte, ushort>(t.bytes).ToArray().Select(v => (long)v).ToArray(),
            ScalarType.Float32 => MemoryMarshal.Cast<byte, uint>(t.bytes).ToArray().Select(v => (long)v).ToArray(),
            ScalarType.Float64 => MemoryMarshal.Cast<byte, long>(t.bytes).ToArray(),
            _ => t.to(ScalarType.Int64).data<long>().ToArray(),
        };
    }

    private static long[] JsonValues(JsonElement values) =>
        values.EnumerateArray().Select(v => v.TryGetInt64(out long l) ? l : unchecked((long)v.GetUInt64())).ToArray();

    [Fact]
    public void ReadsEveryDtypeOfAReferenceFileExactly()
    {
        using var file = SafeTensorsFile.Open(RawSafeTensors.FixturePath("golden_all_dtypes.safetensors"));
        using var expected = JsonDocument.Parse(File.ReadAllText(RawSafeTensors.FixturePath("golden_all_dtypes.json")));
        var tensors = expected.RootElement.GetProperty("tensors");
        Assert.Equal(tensors.EnumerateObject().Select(p => p.Name).Order(), file.Entries.Keys.Order());
        foreach (var property in expected.RootElement.GetProperty("metadata").EnumerateObject())
            Assert.Equal(property.Value.GetString(), file.Metadata[property.Name]);
        var dtypesSeen = new HashSet<SafeTensorsDtype>();
        foreach (var p in tensors.EnumerateObject())
        {
            var entry = file.Entries[p.Name];
            Assert.Equal(p.Value.GetProperty("dtype").GetString(), entry.Dtype.HeaderName());
            var shape = p.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            Assert.Equal(shape, entry.Shape);
            using var t = file.Load(p.Name);
            Assert.Equal(entry.Dtype.LoadedScalarType(), t.dtype);
            Assert.Equal(shape, t.shape);
            Assert.True(JsonValues(p.Value.GetProperty("values")).SequenceEqual(ValuesOf(t)), $"values of '{p.Name}' differ");
            dtypesSeen.Add(entry.Dtype);
        }
        Assert.Equal(Enum.GetValues<SafeTensorsDtype>().Length, dtypesSeen.Count);
    }

    [Fact]
    public void ReferenceOrderAndHeaderBytesForAllFifteenDtypes()
    {
        // The reference sorts by descending dtype rank, then by name: the golden file's offsets must follow
        // that order, and our serializer must reproduce its header bytes from the entries.
        var path = RawSafeTensors.FixturePath("golden_all_dtypes.safetensors");
        using var file = SafeTensorsFile.Open(path);
        var byOffset = file.Entries.Values.OrderBy(e => e.Begin).ThenBy(e => e.End).ToList();
        var byReferenceRule = file.Entries.Values.OrderByDescending(e => e.Dtype).ThenBy(e => e.Name, StringComparer.Ordinal).ToList();
        Assert.Equal(byReferenceRule.Select(e => e.Name), byOffset.Select(e => e.Name));

        var header = SafeTensorsHeader.Serialize(byOffset, file.Metadata);
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(bytes.AsSpan(8, header.Length).ToArray(), header);
        Assert.Equal((ulong)header.Length, BitConverter.ToUInt64(bytes, 0));
    }

    [Fact]
    public void WritesTheReferenceWritersBytesForTheSameTensors()
    {
        var golden = RawSafeTensors.FixturePath("golden_writable.safetensors");
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        using var file = SafeTensorsFile.Open(golden);
        // Feed the tensors in a different order than stored: the writer must order them as the reference does.
        var tensors = file.Entries.Keys.Order(StringComparer.Ordinal).Reverse().Select(n => new KeyValuePair<string, Tensor>(n, file.Load(n))).ToList();
        var ours = dir.File("ours.safetensors");
        SafeTensors.Write(ours, tensors, file.Metadata);

        var expected = File.ReadAllBytes(golden);
        var actual = File.ReadAllBytes(ours);
        int headerEnd = 8 + (int)BitConverter.ToUInt64(expected, 0);
        Assert.Equal(System.Text.Encoding.UTF8.GetString(expected, 8, headerEnd - 8), System.Text.Encoding.UTF8.GetString(actual, 8, headerEnd - 8));
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void ReadsAndRewritesAReferenceShardedCheckpointIdentically()
    {
        var goldenDir = RawSafeTensors.FixturePath("golden_sharded");
        using var plan = JsonDocument.Parse(File.ReadAllText(RawSafeTensors.FixturePath("golden_sharded.json")));
        var order = plan.RootElement.GetProperty("order").EnumerateArray().Select(e => e.GetString()!).ToList();
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        using var source = TensorSource.Open(goldenDir);
        Assert.Equal(order.Order(), source.Names.Order());
        source.Validate();

        var tensors = order.Select(n => new KeyValuePair<string, Tensor>(n, source.Load(n))).ToList();
        SafeTensors.WriteSharded(dir.Path, tensors, plan.RootElement.GetProperty("max_shard_size").GetInt64(),
            metadata: new Dictionary<string, string> { ["format"] = "pt" });

        var expectedFiles = Directory.GetFiles(goldenDir).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(plan.RootElement.GetProperty("shards").GetInt32() + 1, expectedFiles.Count);
        Assert.Equal(expectedFiles, Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order());
        foreach (var name in expectedFiles)
            Assert.True(File.ReadAllBytes(Path.Combine(goldenDir, name!)).SequenceEqual(File.ReadAllBytes(dir.File(name!))), $"{name} differs");
    }

    [Fact]
    public void ReadingAndWritingLeaveNoLiveTensors()
    {
        using var dir = new TempDir();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using (var file = SafeTensorsFile.Open(RawSafeTensors.FixturePath("golden_all_dtypes.safetensors")))
        using (var scope = NewDisposeScope())
        {
            var writable = file.Entries.Values.Where(e => e.Dtype.LoadsExactly())
                .Select(e => new KeyValuePair<string, Tensor>(e.Name, file.Load(e.Name))).ToList();
            foreach (var e in file.Entries.Values.Where(e => !e.Dtype.LoadsExactly())) file.Load(e.Name);
            SafeTensors.WriteSharded(dir.Path, writable, maxShardBytes: 64);
        }
        using (var source = TensorSource.Open(dir.Path))
            foreach (var name in source.Names) source.Load(name).Dispose();
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Fp8TablesMatchKnownValues()
    {
        var e4m3 = SafeTensorsDtypes.F8E4M3Values;
        Assert.Equal(1.0f, e4m3[0x38]);
        Assert.Equal(448f, e4m3[0x7E]);
        Assert.Equal(-448f, e4m3[0xFE]);
        Assert.Equal(MathF.ScaleB(1, -9), e4m3[0x01]);
        Assert.True(float.IsNaN(e4m3[0x7F]) && float.IsNaN(e4m3[0xFF]));
        for (int b = 0; b < 256; b++)
        {
            float half = (float)BitConverter.UInt16BitsToHalf((ushort)(b << 8));
            Assert.True(half.Equals(SafeTensorsDtypes.F8E5M2Values[b]), $"E5M2 0x{b:x2}");
        }
    }
}
