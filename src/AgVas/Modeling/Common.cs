using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AgVas.Modeling;

/// <summary>
/// LayerNorm over the channel axis of an NCHW map (SAM's <c>LayerNorm2d</c>, HF's channels-first <c>SamLayerNorm</c>).
/// Parameters <c>weight</c>, <c>bias</c> of shape [C].
/// </summary>
public sealed class LayerNorm2d : Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly double eps;

    public LayerNorm2d(long channels, double eps = 1e-6) : base(nameof(LayerNorm2d))
    {
        weight = new Parameter(ones(channels));
        bias = new Parameter(zeros(channels));
        this.eps = eps;
        RegisterComponents();
    }

    /// <param name="x">[B, C, H, W]</param>
    /// <returns>[B, C, H, W]</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        using Scalar two = 2, epsilon = eps, one = 1;
        var u = x.mean([1], keepdim: true);                   // [B, 1, H, W]
        var s = (x - u).pow(two).mean([1], keepdim: true);    // [B, 1, H, W]
        var normed = (x - u) / s.add(epsilon, one).sqrt();    // [B, C, H, W]
        var y = (weight.view(-1, 1, 1) * normed).Plus(bias.view(-1, 1, 1)); // [B, C, H, W]
        return y.MoveToOuterDisposeScope();
    }
}

/// <summary>Two-layer MLP <c>lin2(act(lin1(x)))</c>: SAM's <c>MLPBlock</c> (names <c>lin1</c>, <c>lin2</c>).</summary>
public sealed class MlpBlock : Module<Tensor, Tensor>
{
    private readonly Linear lin1;
    private readonly Linear lin2;
    private readonly Activation act;

    public MlpBlock(long dim, long mlpDim, Activation act) : base(nameof(MlpBlock))
    {
        lin1 = nn.Linear(dim, mlpDim);
        lin2 = nn.Linear(mlpDim, dim);
        this.act = act;
        RegisterComponents();
    }

    /// <param name="x">[..., D]</param>
    /// <returns>[..., D]</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return lin2.forward(act.Apply(lin1.forward(x))).MoveToOuterDisposeScope();
    }

    public static long ParameterCount(long dim, long mlpDim) => dim * mlpDim + mlpDim + mlpDim * dim + dim;
}

/// <summary>Parameter-count formulas shared by the components.</summary>
internal static class Count
{
    public static long Linear(long inFeatures, long outFeatures, bool bias = true) => inFeatures * outFeatures + (bias ? outFeatures : 0);
    public static long LayerNorm(long dim) => 2 * dim;
}

/// <summary>Multi-head attention with q/k/v/out projections (bias), scale head_dim^-1/2, and SAM's optional
/// down-projection: q/k/v map D → D/downsampleRate, heads split that, out_proj maps back to D. Serves SigLIP's
/// self-attention (forward(x, x, x)), SPAM's cross-attention and the two-way transformer. Checkpoint names q_proj,
/// k_proj, v_proj, out_proj.</summary>
internal sealed class MultiHeadAttention : Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly Linear q_proj;
    private readonly Linear k_proj;
    private readonly Linear v_proj;
    private readonly Linear out_proj;
    private readonly int heads;

    public MultiHeadAttention(int dim, int heads, int downsampleRate = 1) : base(nameof(MultiHeadAttention))
    {
        int inner = dim / downsampleRate;
        q_proj = nn.Linear(dim, inner);
        k_proj = nn.Linear(dim, inner);
        v_proj = nn.Linear(dim, inner);
        out_proj = nn.Linear(inner, dim);
        this.heads = heads;
        RegisterComponents();
    }

    /// <param name="q">[B, Nq, D]</param>
    /// <param name="k">[B, Nk, D]</param>
    /// <param name="v">[B, Nk, D]</param>
    /// <returns>[B, Nq, D]</returns>
    public override Tensor forward(Tensor q, Tensor k, Tensor v)
    {
        using var scope = NewDisposeScope();
        var qh = SplitHeads(q_proj.forward(q));                         // [B, heads, Nq, D'/heads]
        var kh = SplitHeads(k_proj.forward(k));                         // [B, heads, Nk, D'/heads]
        var vh = SplitHeads(v_proj.forward(v));                         // [B, heads, Nk, D'/heads]
        var o = nn.functional.scaled_dot_product_attention(qh, kh, vh); // [B, heads, Nq, D'/heads]
        o = o.transpose(1, 2).flatten(2);                               // [B, Nq, D']
        return out_proj.forward(o).MoveToOuterDisposeScope();           // [B, Nq, D]
    }

    private Tensor SplitHeads(Tensor x) => x.view(x.shape[0], x.shape[1], heads, -1).transpose(1, 2); // [B, heads, N, D'/heads]

    public static long ParameterCount(long dim, long downsampleRate = 1)
    {
        long inner = dim / downsampleRate;
        return 3 * Count.Linear(dim, inner) + Count.Linear(inner, dim);
    }
}

/// <summary>
/// Work-around for oneDNN 3.7 (libtorch 2.10's CPU convolutions) on AVX-512 CPUs: a convolution whose output channels are
/// not a multiple of 16 is run with its output gradient padded to 16 channels, and the padding is not initialised. The
/// padded filters are zero, so the input gradient is right unless the stale memory holds a NaN or an infinity; then the
/// whole input gradient turns NaN at random (AGMD's 16 → 8 channel conv at 256², about one backward pass in eight).
/// Padding the filters with zeros ourselves leaves nothing for oneDNN to pad: the same values, a finite gradient.
/// </summary>
public static class OneDnnSafe
{
    private const long Block = 16;

    /// <summary><c>conv.forward(x)</c>; when a gradient is to flow back to <paramref name="x"/> and the output channels are
    /// not a multiple of 16, computed with zero filters appended up to the next multiple and the output sliced back, with the
    /// conv's own stride, padding and dilation (zero padding mode, one group).</summary>
    /// <param name="x">[B, I, H, W]</param>
    /// <returns>[B, O, H', W']</returns>
    public static Tensor Conv2d(Conv2d conv, Tensor x)
    {
        if (conv.groups != 1) throw new ArgumentException($"grouped convolutions ({conv.groups} groups) are not supported", nameof(conv));
        if (conv.padding_mode != PaddingModes.Zeros) throw new ArgumentException($"padding mode {conv.padding_mode} is not supported (zeros only)", nameof(conv));
        var weight = conv.weight!;                                                    // [O, I, k, k]
        long o = weight.shape[0], extra = (Block - o % Block) % Block;
        if (extra == 0 || !x.requires_grad || !is_grad_enabled()) return conv.forward(x);
        using var scope = NewDisposeScope();
        var w = cat([weight, zeros([extra, .. weight.shape[1..]], weight.dtype, weight.device)], 0); // [O + extra, I, k, k]
        var b = conv.bias is { } bias ? cat([bias, zeros(extra, bias.dtype, bias.device)], 0) : null; // [O + extra]
        var y = nn.functional.conv2d(x, w, b, conv.stride, conv.padding, conv.dilation)[.., ..(int)o]; // [B, O, H', W']
        return y.MoveToOuterDisposeScope();
    }
}
