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
        var u = x.mean([1], keepdim: true);                   // [B, 1, H, W]
        var s = (x - u).pow(2).mean([1], keepdim: true);      // [B, 1, H, W]
        var normed = (x - u) / (s + eps).sqrt();              // [B, C, H, W]
        var y = weight.view(-1, 1, 1) * normed + bias.view(-1, 1, 1); // [B, C, H, W]
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
