using System.Buffers.Binary;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Tests.Modeling;

/// <summary>
/// One golden case written by tools/golden/vision_golden.py: <c>param/*</c> weights, <c>input/*</c>, <c>output/*</c>
/// (F32 or BOOL safetensors). Read here with a minimal reader so the golden tests depend only on the format.
/// </summary>
internal sealed class GoldenFixture : IDisposable
{
    private readonly Dictionary<string, Tensor> tensors = new();

    public GoldenFixture(string caseName)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "Modeling", caseName + ".safetensors");
        var bytes = File.ReadAllBytes(path);
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        int dataStart = 8 + (int)headerLength;
        foreach (var entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__")
            {
                foreach (var m in entry.Value.EnumerateObject()) Metadata[m.Name] = m.Value.GetString()!;
                continue;
            }
            var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var span = bytes.AsSpan(dataStart + offsets[0], offsets[1] - offsets[0]);
            tensors[entry.Name] = entry.Value.GetProperty("dtype").GetString() switch
            {
                "F32" => tensor(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(span).ToArray()).reshape(shape),
                "BOOL" => tensor(span.ToArray().Select(b => b != 0).ToArray()).reshape(shape),
                var d => throw new InvalidDataException($"{path}: unsupported dtype {d}"),
            };
        }
    }

    public Dictionary<string, string> Metadata { get; } = new();

    public Tensor Input(string name) => tensors["input/" + name];
    public Tensor Output(string name) => tensors["output/" + name];

    public Dictionary<string, Tensor> Params() =>
        tensors.Where(kv => kv.Key.StartsWith("param/", StringComparison.Ordinal)).ToDictionary(kv => kv.Key["param/".Length..], kv => kv.Value);

    /// <summary>Loads every <c>param/*</c> into the module, strictly (no missing, no unexpected names).</summary>
    public void LoadInto(nn.Module module)
    {
        var parameters = Params();
        var (missing, unexpected) = module.load_state_dict(parameters, strict: false);
        Assert.True(missing.Count == 0 && unexpected.Count == 0,
            $"missing: [{string.Join(", ", missing)}] unexpected: [{string.Join(", ", unexpected)}]");
    }

    public static void AssertClose(Tensor expected, Tensor actual, double tolerance = 1e-4)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var diff = (expected.to(float32) - actual.to(float32)).abs();
        double max = diff.max().item<float>();
        Assert.True(max <= tolerance,
            $"max |diff| = {max:G4} > {tolerance:G2}; expected first [{string.Join(", ", expected.flatten()[..4].data<float>().ToArray())}] "
            + $"actual first [{string.Join(", ", actual.to(float32).flatten()[..4].data<float>().ToArray())}]");
    }

    public void Dispose()
    {
        foreach (var t in tensors.Values) t.Dispose();
    }
}
