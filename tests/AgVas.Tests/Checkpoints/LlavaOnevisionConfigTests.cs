using AgVas.Checkpoints;
using AgVas.Modeling;

namespace AgVas.Tests.Checkpoints;

/// <summary>Reads config.json files in the layout of the public llava-onevision-qwen2-*-ov-hf checkpoints and asserts every
/// field the language side binds (fields the file omits take transformers' defaults, e.g. rms_norm_eps).</summary>
public class LlavaOnevisionConfigTests
{
    private static LlavaOnevisionConfig Read(string name) =>
        LlavaOnevisionConfig.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "Language", "hf-configs", name));

    [Fact]
    public void HalfBillionConfigBindsEveryField()
    {
        var c = Read("llava-onevision-qwen2-0.5b-ov-hf.json");
        Assert.Equal(151646, c.ImagePlaceholderId);
        var t = c.TextConfig!;
        Assert.Equal(896, t.HiddenSize);
        Assert.Equal(24, t.NumHiddenLayers);
        Assert.Equal(14, t.NumAttentionHeads);
        Assert.Equal(2, t.NumKeyValueHeads);
        Assert.Equal(4864, t.IntermediateSize);
        Assert.Equal(1e-6, t.RmsNormEps);
        Assert.Equal(1e6, t.RopeTheta);
        Assert.Equal(152000, t.VocabSize);
        Assert.True(t.TieWordEmbeddings);
        Assert.Equal(32768, t.MaxPositionEmbeddings);
        Assert.Equal(Qwen2Config.Ov05b, t with { HiddenAct = "silu" });
    }

    [Fact]
    public void SevenBillionConfigMatchesThePaperPreset()
    {
        var c = Read("llava-onevision-qwen2-7b-ov-hf.json");
        Assert.Equal(151646, c.ImagePlaceholderId);
        Assert.Equal(Qwen2Config.Paper, c.TextConfig);
        Assert.False(c.TextConfig!.TieWordEmbeddings);
        Assert.Equal(152128, c.TextConfig.VocabSize);
    }
}
