using AgVas.Modeling;
using static TorchSharp.torch;

namespace AgVas.Tests.Modeling;

/// <summary>Real-size layouts without weights: the paper and ov-0.5b LLMs are built on the meta device.</summary>
public class Qwen2PresetTests
{
    private static readonly Device Meta = new(TorchSharp.DeviceType.META);

    [Fact]
    public void Qwen2HalfBillionHasItsPublishedParameterCount()
    {
        // Qwen2-0.5B itself (vocabulary 151936, tied): 494,032,768 parameters.
        Assert.Equal(494_032_768L, (Qwen2Config.Ov05b with { VocabSize = 151936 }).ParameterCount());
        // Qwen2-7B (vocabulary 152064, untied head): 7,615,616,512.
        Assert.Equal(7_615_616_512L, (Qwen2Config.Paper with { VocabSize = 152064 }).ParameterCount());
    }

    [Theory]
    [InlineData("ov-0.5b", 494_090_112L)]
    [InlineData("paper", 7_616_075_264L)]
    public void MetaDeviceModelMatchesTheFormula(string preset, long expected)
    {
        var config = preset == "paper" ? Qwen2Config.Paper : Qwen2Config.Ov05b;
        Assert.Equal(expected, config.ParameterCount());
        using var lm = new Qwen2ForCausalLM("lm", config, new LoraConfig(), Meta);
        long basePar = lm.BaseParameters().Sum(p => p.numel());
        long lora = lm.AdapterParameters().Sum(p => p.numel());
        Assert.Equal(expected, basePar);
        // LoRA r=16 on q/k/v/o: r·(in + out) per projection.
        long d = config.HiddenSize, kv = config.NumKeyValueHeads * config.HeadDim;
        Assert.Equal(config.NumHiddenLayers * 16 * ((d + d) + 2 * (d + kv) + (d + d)), lora);
        var q = lm.named_parameters().Single(p => p.name == "model.layers.0.self_attn.q_proj.weight").parameter;
        Assert.Equal(new[] { d, d }, q.shape);
        Assert.Equal(config.TieWordEmbeddings, !lm.named_parameters().Any(p => p.name == "lm_head.weight"));
    }
}
