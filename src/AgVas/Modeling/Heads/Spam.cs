using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AgVas.Modeling;

/// <summary>How SPAM encodes the position of the pixel tokens used as keys.</summary>
public enum SpamPositionalEncoding
{
    /// <summary>SAM's random-Fourier dense PE of the pixel grid, added to f_p before Lin_p for the keys (default, no extra parameters).</summary>
    Fourier,
    /// <summary>A learned [C_p, H_p, W_p] table added to f_p before Lin_p for the keys.</summary>
    Learned,
    /// <summary>No positional encoding.</summary>
    None,
}

/// <summary>
/// SPAM (Semantic-Pixel Alignment Module, docs/design.md §3.3). <paramref name="SemanticDim"/> is the width of f_s (the projector
/// output = LLM hidden size), <paramref name="PixelDim"/> that of f_p (256 for SAM), <paramref name="Dim"/> the common width D.
/// </summary>
public sealed record SpamConfig(
    int SemanticDim,
    int PixelDim,
    int Dim,
    int NumHeads,
    int PixelGridSize,
    SpamPositionalEncoding PositionalEncoding = SpamPositionalEncoding.Fourier,
    double LayerNormEps = 1e-5);

/// <summary>
/// SPAM, the Semantic-Pixel Alignment Module (docs/design.md §3.3):
/// f_align = LayerNorm(Lin_s(f_s) + MHCA(Q = Lin_s(f_s), K = Lin_p(f_p + PE), V = Lin_p(f_p))).
/// Queries come from the semantic tokens, keys and values from the pixel tokens, so f_align has as many tokens as f_s.
/// AG-VAS (ours): width D = LLM hidden size, heads = LLM heads, residual + LayerNorm, PE = SAM's random-Fourier dense PE
/// of the pixel grid added in f_p's space (keys only), per <see cref="SpamConfig.PositionalEncoding"/>.
/// </summary>
public sealed class Spam : Module<Tensor, Tensor, Tensor>
{
    private readonly Linear lin_s;
    private readonly Linear lin_p;
    private readonly MultiHeadAttention cross_attn;
    private readonly LayerNorm layer_norm;
    private readonly PositionEmbeddingRandom? pe_layer;
    private readonly Parameter? pos_embed;

    public Spam(SpamConfig config) : base(nameof(Spam))
    {
        lin_s = nn.Linear(config.SemanticDim, config.Dim);
        lin_p = nn.Linear(config.PixelDim, config.Dim);
        cross_attn = new MultiHeadAttention(config.Dim, config.NumHeads);
        layer_norm = nn.LayerNorm(config.Dim, config.LayerNormEps);
        using Scalar initStd = 0.02;
        switch (config.PositionalEncoding)
        {
            case SpamPositionalEncoding.Fourier:
                pe_layer = new PositionEmbeddingRandom(config.PixelDim / 2);
                break;
            case SpamPositionalEncoding.Learned:
                pos_embed = new Parameter(randn(config.PixelDim, config.PixelGridSize, config.PixelGridSize) * initStd);
                break;
        }
        RegisterComponents();
    }

    /// <param name="semantic">f_s: [B, N_s, C_s] projected visual tokens</param>
    /// <param name="pixel">f_p: [B, C_p, H, W] pixel embedding</param>
    /// <returns>f_align: [B, N_s, D]</returns>
    public override Tensor forward(Tensor semantic, Tensor pixel)
    {
        using var scope = NewDisposeScope();
        long h = pixel.shape[2], w = pixel.shape[3];
        var q = lin_s.forward(semantic);                                     // [B, N_s, D]
        var fp = pixel.flatten(2).transpose(1, 2);                           // [B, N_p, C_p]
        var keysIn = fp;                                                     // [B, N_p, C_p]
        if (pe_layer is not null) keysIn = fp.Plus(pe_layer.Grid(h, w).flatten(1).transpose(0, 1)); // [B, N_p, C_p]
        else if (pos_embed is not null) keysIn = fp.Plus(pos_embed.flatten(1).transpose(0, 1));   // [B, N_p, C_p]
        var k = lin_p.forward(keysIn);                                       // [B, N_p, D]
        var v = lin_p.forward(fp);                                           // [B, N_p, D]
        var y = layer_norm.forward(q.Plus(cross_attn.forward(q, k, v)));         // [B, N_s, D]
        return y.MoveToOuterDisposeScope();
    }

    public static long ParameterCount(SpamConfig c)
    {
        long total = Count.Linear(c.SemanticDim, c.Dim) + Count.Linear(c.PixelDim, c.Dim) + 4 * Count.Linear(c.Dim, c.Dim) + Count.LayerNorm(c.Dim);
        if (c.PositionalEncoding == SpamPositionalEncoding.Learned) total += (long)c.PixelDim * c.PixelGridSize * c.PixelGridSize;
        return total;
    }
}
