using AgVas.Modeling;
using static TorchSharp.torch;

namespace AgVas.Tests.Modeling;

public class LoraLinearTests
{
    private readonly Qwen2GoldenFixture fx = new();

    private LoraLinear GoldenLayer()
    {
        var lora = new LoraConfig { Rank = fx.LoraRank, Alpha = fx.LoraAlpha, Dropout = 0.05 };
        var layer = new LoraLinear("lora", fx.Config.HiddenSize, 8, true, lora);
        fx.LoadInto(layer, "lora.");
        layer.eval();
        return layer;
    }

    [Fact]
    public void ForwardMatchesGolden()
    {
        using var scope = NewDisposeScope();
        var layer = GoldenLayer();
        Qwen2GoldenFixture.AssertClose(fx.Output("lora_y"), layer.forward(fx.Input("x")), 1e-4, "lora forward");
    }

    [Fact]
    public void MergeMatchesGoldenAndUnmergeRestoresTheWeight()
    {
        using var scope = NewDisposeScope();
        var layer = GoldenLayer();
        var before = layer.Weight.detach().clone();
        var x = fx.Input("x");
        var unmergedY = layer.forward(x);
        layer.Merge();
        Assert.True(layer.IsMerged);
        Qwen2GoldenFixture.AssertClose(fx.Output("lora_merged_weight"), layer.Weight, 1e-5, "merged weight");
        Qwen2GoldenFixture.AssertClose(unmergedY, layer.forward(x), 1e-5, "merged forward");
        layer.Unmerge();
        Assert.False(layer.IsMerged);
        Qwen2GoldenFixture.AssertClose(before, layer.Weight, 1e-6, "weight after unmerge");
    }

    [Fact]
    public void FreshAdapterIsIdentityAndOnlyTargetsGetAdapters()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var config = Qwen2Config.Tiny;
        var lora = new LoraConfig { Rank = 4, Targets = LoraTargets.QProj | LoraTargets.VProj | LoraTargets.DownProj };
        var plain = new Qwen2ForCausalLM("lm", config);
        var adapted = new Qwen2ForCausalLM("lm", config, lora);
        adapted.load_state_dict(plain.state_dict(), strict: false);
        plain.eval();
        adapted.eval();
        var ids = tensor(new long[] { 1, 5, 9, 2 }).unsqueeze(0);
        Qwen2GoldenFixture.AssertClose(plain.forward(ids), adapted.forward(ids), 1e-6, "fresh adapter");
        var withAdapter = adapted.Linears().Where(l => l.HasAdapter).Count();
        Assert.Equal(3 * config.NumHiddenLayers, withAdapter);
        Assert.Equal(2 * 3 * config.NumHiddenLayers, adapted.AdapterParameters().Count());
        var adapterNames = adapted.named_parameters().Where(p => adapted.AdapterParameters().Contains(p.parameter)).Select(p => p.name).ToList();
        Assert.All(adapterNames, n => Assert.Matches(@"\.(q_proj|v_proj|down_proj)\.lora_[AB]\.weight$", n));
    }
}
