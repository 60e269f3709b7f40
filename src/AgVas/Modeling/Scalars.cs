using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Modeling;

/// <summary>
/// TorchSharp's <c>a + b</c> and <c>a.add(b)</c> make a hidden alpha Scalar of 1 and drop it while libtorch still reads
/// it, so a collection on another thread may finalise it mid-call (the hazard <see cref="SamImageTransform"/> describes
/// for numbers). <see cref="Plus"/> adds with <see cref="One"/>, a Scalar rooted for the process's life: the very
/// operation TorchSharp performs, with an alpha that can never be freed.
/// </summary>
public static class Scalars
{
    /// <summary>1 as an Int64 Scalar, the alpha TorchSharp's add(Tensor) uses; never disposed.</summary>
    public static readonly Scalar One = 1;

    /// <summary>a + b (broadcasting), with a rooted alpha.</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, One);

    /// <summary>−1, rooted like <see cref="One"/>.</summary>
    public static readonly Scalar MinusOne = -1;

    /// <summary>a − b (broadcasting) as a + (−1)·b, with a rooted alpha.</summary>
    public static Tensor Minus(this Tensor a, Tensor b) => a.add(b, MinusOne);

    /// <summary>a += b in place, with a rooted alpha.</summary>
    public static Tensor PlusInPlace(this Tensor a, Tensor b) => a.add_(b, One);
}
