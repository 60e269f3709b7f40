using AgVas.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Tests.Checkpoints;

public class SafeTensorsRoundTripTests
{
    public static TheoryData<ScalarType> WritableTypes =>
    [
        ScalarType.Bool, ScalarType.Byte, ScalarType.Int8, ScalarType.Int16, ScalarType.Float16, ScalarType.BFloat16,
        ScalarType.Int32, ScalarType.Float32, ScalarType.Float64, ScalarType.Int64,
    ];

    /// <summary>Random bits of the given type: every byte pattern (NaNs and subnormals included) for floats.</summary>
    private static Tensor RandomTensor(ScalarType type, long[] shape, int seed)
    {
        var t = empty(shape, type);
        if (t.numel() == 0) return t;
        var rng = new Random(seed);
        var bytes = t.bytes;
        rng.NextBytes(bytes);
        if (type == ScalarType.Bool)
            for (int i = 0; i < bytes.Length; i++) bytes[i] &= 1;
        return t;
    }

    private static void AssertSameTensor(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        using var e = expected.contiguous();
        Assert.Equal(e.numel() == 0 ? [] : e.bytes.ToArray(), actual.numel() == 0 ? [] : actual.bytes.ToArray());
    }

    [Theory]
    [MemberData(nameof(WritableTypes))]
    public void EveryTorchSharpDtypeRoundTripsBitExactly(ScalarType type)
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["matrix"] = RandomTensor(type, [5, 7], 1),
            ["scalar"] = RandomTensor(type, [], 2),
            ["empty"] = RandomTensor(type, [0, 4], 3),
            ["transposed"] = RandomTensor(type, [3, 6], 4).t(), // non-contiguous input
        };
        var path = dir.File("t.safetensors");
        SafeTensors.Write(path, tensors);
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(tensors.Keys.Order(), file.Entries.Keys.Order());
        foreach (var (name, expected) in tensors)
        {
            Assert.Equal(SafeTensorsDtypes.FromScalarType(type), file.Entries[name].Dtype);
            AssertSameTensor(expected, file.Load(name));
        }
    }

    [Fact]
    public void TensorsLargerThanTheIoChunkRoundTrip()
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        var big = RandomTensor(ScalarType.Float32, [5, 1 << 20], 5); // 20 MB, above the 16 MB chunk
        var path = dir.File("big.safetensors");
        SafeTensors.Write(path, [new("big", big)]);
        using var file = SafeTensorsFile.Open(path);
        AssertSameTensor(big, file.Load("big"));
    }

    [Fact]
    public void MetadataRoundTrips()
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode \"quoted\"\nnew line\t\u0001", ["empty"] = "" };
        var path = dir.File("m.safetensors");
        SafeTensors.Write(path, [new("x", ones(2))], metadata);
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(metadata.OrderBy(kv => kv.Key), file.Metadata.OrderBy(kv => kv.Key));
    }

    [Fact]
    public void NoMetadataMeansNoMetadataKey()
    {
        using var dir = new TempDir();
        var path = dir.File("n.safetensors");
        using (var x = ones(1)) SafeTensors.Write(path, [new("x", x)]);
        Assert.DoesNotContain("__metadata__", File.ReadAllText(path));
        using var file = SafeTensorsFile.Open(path);
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void AnEmptyFileRoundTrips()
    {
        using var dir = new TempDir();
        var path = dir.File("e.safetensors");
        SafeTensors.Write(path, []);
        Assert.Equal(16, new FileInfo(path).Length); // the reference's "{}" + 6 spaces
        using var file = SafeTensorsFile.Open(path);
        Assert.Empty(file.Entries);
    }

    [Fact]
    public void WriterRejectsWhatTheFormatCannotHold()
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        var path = dir.File("bad.safetensors");
        var complex = Assert.Throws<CheckpointException>(() => SafeTensors.Write(path, [new("c", zeros(2, ScalarType.ComplexFloat32))]));
        Assert.Contains("'c'", complex.Message);
        Assert.Throws<CheckpointException>(() => SafeTensors.Write(path, [new("a", ones(1)), new("a", ones(1))]));
        Assert.Throws<CheckpointException>(() => SafeTensors.Write(path, [new("__metadata__", ones(1))]));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void ShardedCheckpointRoundTripsThroughTensorSource()
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        var tensors = Enumerable.Range(0, 6)
            .Select(i => new KeyValuePair<string, Tensor>($"layers.{i}.weight", RandomTensor(i % 2 == 0 ? ScalarType.Float32 : ScalarType.BFloat16, [4, 4], i)))
            .ToList();
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        var written = SafeTensors.WriteSharded(dir.Path, tensors, maxShardBytes: 100, metadata: metadata);

        // 64 B float32 and 32 B bfloat16 tensors alternating under a 100 B limit: [64+32], [64+32], [64+32].
        Assert.Equal(["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors",
            "model.safetensors.index.json"], written.Select(Path.GetFileName));
        using var source = TensorSource.Open(dir.Path);
        Assert.EndsWith("model.safetensors.index.json", source.Path);
        Assert.Equal(tensors.Select(t => t.Key).Order(), source.Names.Order());
        foreach (var (name, expected) in tensors)
        {
            Assert.Equal(expected.shape, source.Shape(name));
            AssertSameTensor(expected, source.Load(name));
        }
        source.Validate();
        using var shard = SafeTensorsFile.Open(written[0]);
        Assert.Equal("pt", shard.Metadata["format"]);
    }

    [Fact]
    public void OneShardIsASingleFileAndStaleShardsAreRemoved()
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        KeyValuePair<string, Tensor>[] tensors = [new("a", ones(8)), new("b", ones(8))];
        SafeTensors.WriteSharded(dir.Path, tensors, maxShardBytes: 40);
        Assert.Equal(3, Directory.GetFiles(dir.Path).Length);
        File.WriteAllText(dir.File("model-00007-of-00009.safetensors"), "stale");
        File.WriteAllText(dir.File("other.txt"), "kept");

        var written = SafeTensors.WriteSharded(dir.Path, tensors, maxShardBytes: 1 << 20);
        Assert.Equal([dir.File("model.safetensors")], written);
        Assert.Equal(["model.safetensors", "other.txt"], Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order());
        using var source = TensorSource.Open(dir.Path);
        Assert.Equal(["a", "b"], source.Names.Order());
    }

    [Fact]
    public void ATensorOverTheLimitGetsItsOwnShardAsInHuggingFace()
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        // Sizes 16, 400, 16 with a 100-byte limit: the big one is appended as a shard before the running one.
        var written = SafeTensors.WriteSharded(dir.Path, [new("small1", ones(4)), new("big", ones(100)), new("small2", ones(4))], 100);
        using var source = TensorSource.Open(dir.Path);
        var index = File.ReadAllText(written[^1]);
        Assert.Contains("\"big\": \"model-00001-of-00002.safetensors\"", index);
        Assert.Contains("\"small1\": \"model-00002-of-00002.safetensors\"", index);
        Assert.Contains("\"total_size\": 432", index);
    }
}

public class TensorSourceCopyIntoTests
{
    [Fact]
    public void CopyIntoFillsTheTargetOrNamesTheFileAndWhatIsWrong()
    {
        using var dir = new TempDir();
        var path = dir["w.safetensors"];
        using (var w = arange(6, dtype: ScalarType.Float32).reshape(2, 3))
            SafeTensors.Write(path, [new("w", w)]);
        using var source = TensorSource.Open(path);
        using var target = zeros(2, 3);
        source.CopyInto("w", target, "the weights");
        Assert.Equal([0f, 1, 2, 3, 4, 5], target.data<float>().ToArray());

        using var wrong = zeros(3, 2);
        var e = Assert.Throws<CheckpointException>(() => source.CopyInto("w", wrong, "the weights"));
        Assert.Contains(path, e.Message);
        Assert.Contains("the weights: tensor 'w' has shape [2, 3], expected [3, 2]", e.Message);
        e = Assert.Throws<CheckpointException>(() => source.CopyInto("v", target, "optimiser state"));
        Assert.Contains("optimiser state: no tensor 'v'", e.Message);
    }
}
