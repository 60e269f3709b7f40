using System.Text.Json;
using AgVas.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Tests.Modeling;

/// <summary>Reads Fixtures/Language/qwen2_golden.json (written by tools/golden/language_golden.py): the tiny config, its
/// random weights by Hugging Face name, the inputs and the reference outputs.</summary>
internal sealed class Qwen2GoldenFixture
{
    private readonly JsonElement root;

    public Qwen2GoldenFixture()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "Language", "qwen2_golden.json");
        root = JsonDocument.Parse(File.ReadAllText(path)).RootElement;
        Config = root.GetProperty("config").Deserialize<Qwen2Config>()!;
    }

    public Qwen2Config Config { get; }
    public int LoraRank => root.GetProperty("lora").GetProperty("rank").GetInt32();
    public double LoraAlpha => root.GetProperty("lora").GetProperty("alpha").GetDouble();

    public Tensor Weight(string name) => Read(root.GetProperty("weights").GetProperty(name), ScalarType.Float32);
    public Tensor Input(string name, ScalarType dtype = ScalarType.Float32) => Read(root.GetProperty("inputs").GetProperty(name), dtype);
    public Tensor Output(string name) => Read(root.GetProperty("outputs").GetProperty(name), ScalarType.Float32);

    /// <summary>Copies every fixture weight whose name starts with <paramref name="prefix"/> into the module parameter of
    /// the same name (prefix removed); asserts that every module parameter was covered.</summary>
    public void LoadInto(nn.Module module, string prefix)
    {
        var parameters = module.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var loaded = new HashSet<string>();
        using var guard = no_grad();
        foreach (var entry in root.GetProperty("weights").EnumerateObject())
        {
            if (!entry.Name.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var name = entry.Name[prefix.Length..];
            if (!parameters.TryGetValue(name, out var p)) continue;
            using var t = Read(entry.Value, ScalarType.Float32);
            p.copy_(t);
            loaded.Add(name);
        }
        var missing = parameters.Keys.Where(k => !loaded.Contains(k)).ToList();
        Assert.True(missing.Count == 0, "fixture lacks: " + string.Join(", ", missing));
    }

    private static Tensor Read(JsonElement e, ScalarType dtype)
    {
        var shape = e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
        var data = e.GetProperty("data").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        return tensor(data, dtype: ScalarType.Float64).reshape(shape).to_type(dtype);
    }

    /// <summary>Asserts max |actual − expected| ≤ tol, printing the first values and the max difference on failure.</summary>
    public static void AssertClose(Tensor expected, Tensor actual, double tol, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var diff = (expected.to_type(ScalarType.Float64) - actual.to_type(ScalarType.Float64)).abs();
        double max = diff.max().item<double>();
        if (max > tol)
        {
            var e = expected.flatten()[..6].to_type(ScalarType.Float64).data<double>().ToArray();
            var a = actual.flatten()[..6].to_type(ScalarType.Float64).data<double>().ToArray();
            Assert.Fail($"{what}: max |diff| {max:E3} > {tol:E1}; expected [{string.Join(", ", e)}] actual [{string.Join(", ", a)}]");
        }
    }
}
