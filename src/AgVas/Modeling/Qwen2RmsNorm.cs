using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AgVas.Modeling;

/// <summary>Root-mean-square layer norm of Qwen2: y = weight · x / sqrt(mean(x²) + eps), computed in float32.</summary>
public sealed class Qwen2RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly double eps;

    public Qwen2RmsNorm(string name, int hiddenSize, double eps, Device? device = null) : base(name)
    {
        weight = new Parameter(ones(hiddenSize, device: device));
        this.eps = eps;
        RegisterComponents();
    }

    /// <summary>x [..., D] → [..., D].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        using Scalar two = 2, epsilon = eps, one = 1;
        var x32 = x.to_type(ScalarType.Float32);
        var variance = x32.pow(two).mean([-1L], keepdim: true);                            // [..., 1]
        var normed = x32.mul(rsqrt(variance.add(epsilon, one))).to_type(x.dtype);          // [..., D]
        return weight.mul(normed).MoveToOuterDisposeScope();
    }
}
