using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Modeling;

/// <summary>Qwen2's grouped-query self-attention: q/k/v projections with bias, o_proj without; H query heads share
/// KV key/value heads (H / KV queries per group); rotary embeddings on q and k; optional KV cache.</summary>
public sealed class Qwen2Attention : nn.Module
{
    private readonly LoraLinear q_proj;
    private readonly LoraLinear k_proj;
    private readonly LoraLinear v_proj;
    private readonly LoraLinear o_proj;
    private readonly int numHeads;
    private readonly int numKvHeads;
    private readonly int headDim;

    public Qwen2Attention(string name, Qwen2Config config, LoraConfig? lora, Device? device = null) : base(name)
    {
        numHeads = config.NumAttentionHeads;
        numKvHeads = config.NumKeyValueHeads;
        headDim = config.HeadDim;
        int d = config.HiddenSize;
        q_proj = new LoraLinear("q_proj", d, numHeads * headDim, true, Qwen2Mlp.Pick(lora, LoraTargets.QProj), device);
        k_proj = new LoraLinear("k_proj", d, numKvHeads * headDim, true, Qwen2Mlp.Pick(lora, LoraTargets.KProj), device);
        v_proj = new LoraLinear("v_proj", d, numKvHeads * headDim, true, Qwen2Mlp.Pick(lora, LoraTargets.VProj), device);
        o_proj = new LoraLinear("o_proj", numHeads * headDim, d, false, Qwen2Mlp.Pick(lora, LoraTargets.OProj), device);
        RegisterComponents();
    }

    public IEnumerable<LoraLinear> Linears() => [q_proj, k_proj, v_proj, o_proj];

    /// <summary>x [B, T, D]; cos, sin [B, T, head_dim]; mask [B, 1, T, S] additive (0 or very negative), S = past + T;
    /// cache (optional) receives this step's keys and values for <paramref name="layer"/>. Returns [B, T, D].</summary>
    public Tensor forward(Tensor x, Tensor cos, Tensor sin, Tensor mask, Qwen2KvCache? cache, int layer)
    {
        using var scope = NewDisposeScope();
        using Scalar scale = 1.0 / Math.Sqrt(headDim);
        long b = x.shape[0], t = x.shape[1];
        var q = q_proj.forward(x).view(b, t, numHeads, headDim).transpose(1, 2);          // [B, H, T, hd]
        var k = k_proj.forward(x).view(b, t, numKvHeads, headDim).transpose(1, 2);        // [B, KV, T, hd]
        var v = v_proj.forward(x).view(b, t, numKvHeads, headDim).transpose(1, 2);        // [B, KV, T, hd]
        q = Qwen2RotaryEmbedding.Apply(q, cos, sin);                                         // [B, H, T, hd]
        k = Qwen2RotaryEmbedding.Apply(k, cos, sin);                                         // [B, KV, T, hd]
        if (cache is not null) (k, v) = cache.Append(layer, k, v);                           // [B, KV, S, hd]
        int group = numHeads / numKvHeads;
        var kr = group == 1 ? k : k.repeat_interleave(group, dim: 1);                       // [B, H, S, hd]
        var vr = group == 1 ? v : v.repeat_interleave(group, dim: 1);                       // [B, H, S, hd]
        var scores = matmul(q, kr.transpose(2, 3)).mul(scale);                             // [B, H, T, S]
        scores = scores.Plus(mask);                                                          // [B, H, T, S]
        var probs = softmax(scores, dim: -1, dtype: ScalarType.Float32).to_type(q.dtype);   // [B, H, T, S]
        var context = matmul(probs, vr);                                                     // [B, H, T, hd]
        context = context.transpose(1, 2).reshape(b, t, numHeads * headDim);                 // [B, T, H·hd]
        return o_proj.forward(context).MoveToOuterDisposeScope();                           // [B, T, D]
    }
}
