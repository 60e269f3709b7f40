using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Modeling;

/// <summary>Rotary position embeddings (RoPE) of Qwen2 with the default (unscaled) frequencies
/// inv_freq_i = 1 / theta^(2i / head_dim). Produces cos and sin tables for given positions; the rotation itself is
/// <see cref="Apply"/>, which pairs dimension j with j + head_dim/2 (Hugging Face's rotate_half convention).</summary>
public sealed class Qwen2RotaryEmbedding : nn.Module<Tensor, (Tensor Cos, Tensor Sin)>
{
    private readonly Tensor inv_freq;

    public Qwen2RotaryEmbedding(string name, int headDim, double theta, Device? device = null) : base(name)
    {
        using Scalar zero = 0, end = headDim, step = 2;
        var exponents = arange(zero, end, step, dtype: ScalarType.Int64).to_type(ScalarType.Float32).div_(end); // [head_dim/2]
        inv_freq = pow(theta, exponents).reciprocal_().to(device ?? CPU);
        exponents.Dispose();
        // Derived from the config, never loaded: not part of the state dict (Hugging Face: persistent=False).
        register_buffer("inv_freq", inv_freq, persistent: false);
        RegisterComponents();
    }

    /// <summary>positionIds [B, T] (int64) → cos, sin [B, T, head_dim], float32.</summary>
    public override (Tensor Cos, Tensor Sin) forward(Tensor positionIds)
    {
        using var scope = NewDisposeScope();
        var positions = positionIds.to_type(ScalarType.Float32).unsqueeze(-1);              // [B, T, 1]
        var freqs = positions.mul(inv_freq.to(positionIds.device));                           // [B, T, head_dim/2]
        var emb = cat([freqs, freqs], dim: -1);                                             // [B, T, head_dim]
        return (emb.cos().MoveToOuterDisposeScope(), emb.sin().MoveToOuterDisposeScope());
    }

    /// <summary>Rotates x [B, heads, T, head_dim] by cos, sin [B, T, head_dim]: x·cos + rotate_half(x)·sin.</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        long half = x.shape[^1] / 2;
        var c = cos.unsqueeze(1).to_type(x.dtype);                                          // [B, 1, T, head_dim]
        var s = sin.unsqueeze(1).to_type(x.dtype);                                          // [B, 1, T, head_dim]
        var x1 = x[.., .., .., ..(int)half];                                                // [B, heads, T, head_dim/2]
        var x2 = x[.., .., .., (int)half..];                                                // [B, heads, T, head_dim/2]
        var rotated = cat([x2.neg(), x1], dim: -1);                                         // [B, heads, T, head_dim]
        return x.mul(c).Plus(rotated.mul(s)).MoveToOuterDisposeScope();
    }
}
