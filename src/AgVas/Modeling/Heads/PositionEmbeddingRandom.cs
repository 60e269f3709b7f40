using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AgVas.Modeling;

/// <summary>
/// SAM's dense positional encoding with random Fourier features: for the normalised pixel-centre coordinates
/// (x, y) ∈ [−1, 1]², PE = [sin(2π·(x,y)·G), cos(2π·(x,y)·G)] with a fixed Gaussian matrix G of shape [2, F] (buffer
/// <c>positional_embedding</c>; HF's <c>shared_image_embedding.positional_embedding</c>). Output width 2F.
/// </summary>
public sealed class PositionEmbeddingRandom : nn.Module
{
    private readonly Tensor positional_embedding;

    public PositionEmbeddingRandom(int numPosFeats, double scale = 1.0) : base(nameof(PositionEmbeddingRandom))
    {
        using Scalar s = scale;
        positional_embedding = randn(2, numPosFeats) * s;
        register_buffer(nameof(positional_embedding), positional_embedding);
    }

    /// <summary>The dense PE of an <paramref name="h"/>×<paramref name="w"/> grid: [2F, h, w].</summary>
    public Tensor Grid(long h, long w)
    {
        using var scope = NewDisposeScope();
        using Scalar zero = 0, one = 1, two = 2, half = 0.5, twoPi = 2 * Math.PI, height = h, width = w;
        var y = arange(zero, height, one, dtype: float32).add(half, one) / height; // [h]
        var x = arange(zero, width, one, dtype: float32).add(half, one) / width;   // [w]
        var coords = stack([x.unsqueeze(0).expand(h, w), y.unsqueeze(1).expand(h, w)], dim: -1); // [h, w, 2]
        coords = (two * coords - one).matmul(positional_embedding) * twoPi;       // [h, w, F]
        var pe = cat([coords.sin(), coords.cos()], dim: -1);                      // [h, w, 2F]
        return pe.permute(2, 0, 1).contiguous().MoveToOuterDisposeScope();        // [2F, h, w]
    }
}
