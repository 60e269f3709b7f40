using AgVas.Modeling;
using static TorchSharp.torch;

namespace AgVas.Tests.Modeling;

/// <summary>Qwen2 blocks against golden values computed independently (torch 1.13, float64, our own formulas) on the
/// same random weights; tolerance 1e-4.</summary>
public class Qwen2GoldenTests
{
    private const double Tol = 1e-4;
    private readonly Qwen2GoldenFixture fx = new();

    [Fact]
    public void RmsNormMatchesGolden()
    {
        using var scope = NewDisposeScope();
        var norm = new Qwen2RmsNorm("input_layernorm", fx.Config.HiddenSize, fx.Config.RmsNormEps);
        fx.LoadInto(norm, "model.layers.0.input_layernorm.");
        Qwen2GoldenFixture.AssertClose(fx.Output("rms_norm"), norm.forward(fx.Input("x")), Tol, "rms_norm");
    }

    [Fact]
    public void RotaryEmbeddingsMatchGolden()
    {
        using var scope = NewDisposeScope();
        var rope = new Qwen2RotaryEmbedding("rotary_emb", fx.Config.HeadDim, fx.Config.RopeTheta);
        var (cos, sin) = rope.forward(fx.Input("pos", ScalarType.Int64));
        Qwen2GoldenFixture.AssertClose(fx.Output("rope_cos"), cos, Tol, "cos");
        Qwen2GoldenFixture.AssertClose(fx.Output("rope_sin"), sin, Tol, "sin");
        Qwen2GoldenFixture.AssertClose(fx.Output("rope_q"), Qwen2RotaryEmbedding.Apply(fx.Input("q"), cos, sin), Tol, "rotated q");
    }

    [Fact]
    public void GroupedQueryAttentionMatchesGolden()
    {
        using var scope = NewDisposeScope();
        var attention = new Qwen2Attention("self_attn", fx.Config, null);
        fx.LoadInto(attention, "model.layers.0.self_attn.");
        var x = fx.Input("x");
        var rope = new Qwen2RotaryEmbedding("rotary_emb", fx.Config.HeadDim, fx.Config.RopeTheta);
        var (cos, sin) = rope.forward(fx.Input("pos", ScalarType.Int64));
        var mask = Qwen2Model.CausalMask(x.shape[0], x.shape[1], 0, fx.Input("mask", ScalarType.Int64), x.dtype, x.device);
        Qwen2GoldenFixture.AssertClose(fx.Output("attention"), attention.forward(x, cos, sin, mask, null, 0), Tol, "attention");
    }

    [Fact]
    public void DecoderLayerMatchesGolden()
    {
        using var scope = NewDisposeScope();
        var layer = new Qwen2DecoderLayer("0", 0, fx.Config, null);
        fx.LoadInto(layer, "model.layers.0.");
        var x = fx.Input("x");
        var rope = new Qwen2RotaryEmbedding("rotary_emb", fx.Config.HeadDim, fx.Config.RopeTheta);
        var (cos, sin) = rope.forward(fx.Input("pos", ScalarType.Int64));
        var mask = Qwen2Model.CausalMask(x.shape[0], x.shape[1], 0, fx.Input("mask", ScalarType.Int64), x.dtype, x.device);
        Qwen2GoldenFixture.AssertClose(fx.Output("layer0"), layer.forward(x, cos, sin, mask, null), Tol, "decoder layer");
    }

    [Fact]
    public void WholeModelWithTiedHeadMatchesGolden()
    {
        using var scope = NewDisposeScope();
        var lm = new Qwen2ForCausalLM("lm", fx.Config);
        fx.LoadInto(lm, "");
        var ids = fx.Input("ids", ScalarType.Int64);
        var mask = fx.Input("mask", ScalarType.Int64);
        var pos = fx.Input("pos", ScalarType.Int64);
        var hidden = lm.Hidden(lm.Embed(ids), mask, pos);
        Qwen2GoldenFixture.AssertClose(fx.Output("hidden"), hidden, Tol, "hidden");
        Qwen2GoldenFixture.AssertClose(fx.Output("logits"), lm.forward(ids, mask, pos), Tol, "logits");
    }

    [Fact]
    public void HuggingFaceParameterNames()
    {
        using var scope = NewDisposeScope();
        var lm = new Qwen2ForCausalLM("lm", fx.Config with { TieWordEmbeddings = false });
        var names = lm.state_dict().Keys.ToHashSet();
        foreach (var expected in new[]
        {
            "model.embed_tokens.weight", "model.norm.weight", "lm_head.weight",
            "model.layers.1.self_attn.q_proj.weight", "model.layers.1.self_attn.q_proj.bias", "model.layers.1.self_attn.k_proj.bias",
            "model.layers.1.self_attn.v_proj.bias", "model.layers.1.self_attn.o_proj.weight", "model.layers.1.mlp.gate_proj.weight",
            "model.layers.1.mlp.up_proj.weight", "model.layers.1.mlp.down_proj.weight", "model.layers.1.input_layernorm.weight",
            "model.layers.1.post_attention_layernorm.weight",
        })
            Assert.Contains(expected, names);
        Assert.DoesNotContain("model.layers.1.self_attn.o_proj.bias", names);
        Assert.DoesNotContain("model.rotary_emb.inv_freq", names);
        Assert.Equal(lm.Config.ParameterCount(), lm.parameters().Sum(p => p.numel()));
    }
}
