using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Modeling;

/// <summary>One pre-norm Qwen2 decoder layer: x + self_attn(input_layernorm(x)), then + mlp(post_attention_layernorm(·)).</summary>
public sealed class Qwen2DecoderLayer : nn.Module
{
    private readonly Qwen2Attention self_attn;
    private readonly Qwen2Mlp mlp;
    private readonly Qwen2RmsNorm input_layernorm;
    private readonly Qwen2RmsNorm post_attention_layernorm;
    private readonly int index;

    public Qwen2DecoderLayer(string name, int index, Qwen2Config config, LoraConfig? lora, Device? device = null) : base(name)
    {
        this.index = index;
        self_attn = new Qwen2Attention("self_attn", config, lora, device);
        mlp = new Qwen2Mlp("mlp", config, lora, device);
        input_layernorm = new Qwen2RmsNorm("input_layernorm", config.HiddenSize, config.RmsNormEps, device);
        post_attention_layernorm = new Qwen2RmsNorm("post_attention_layernorm", config.HiddenSize, config.RmsNormEps, device);
        RegisterComponents();
    }

    public IEnumerable<LoraLinear> Linears() => self_attn.Linears().Concat(mlp.Linears());

    /// <summary>x [B, T, D]; cos, sin [B, T, head_dim]; mask [B, 1, T, S]. Returns [B, T, D].</summary>
    public Tensor forward(Tensor x, Tensor cos, Tensor sin, Tensor mask, Qwen2KvCache? cache)
    {
        using var scope = NewDisposeScope();
        var h = x.Plus(self_attn.forward(input_layernorm.forward(x), cos, sin, mask, cache, index));  // [B, T, D]
        return h.Plus(mlp.forward(post_attention_layernorm.forward(h))).MoveToOuterDisposeScope();   // [B, T, D]
    }
}
