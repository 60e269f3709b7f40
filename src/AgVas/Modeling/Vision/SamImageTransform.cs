using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AgVas.Modeling;

/// <summary>
/// SAM's input convention (docs/design.md §3.1): resize so the longest side equals the encoder size (bilinear, antialiased),
/// normalise per channel with mean (123.675, 116.28, 103.53) and std (58.395, 57.12, 57.375) on the 0–255 scale,
/// zero-pad bottom/right to a square. And the inverse for maps: upsample the decoder's low-res map to the padded input,
/// crop the valid region, resize to the original size (bilinear, align_corners = false).
/// <para>
/// Scalars (the rule for all of Modeling and Inference): a C# number given to a TorchSharp op that takes a
/// <see cref="Scalar"/> (<c>x / 255.0</c>, <c>t.gt(0.5)</c>, <c>t.add(eps)</c>, <c>full(n, v)</c>, …) becomes a temporary
/// Scalar whose native handle is read and which is then unreachable, so a collection on another thread may finalise it
/// while libtorch still reads it (<c>agvas predict</c> failed with "Exception raised from toDouble" in
/// <see cref="SiglipPreProcess"/>). So every such number is made a Scalar first with <c>using Scalar s = value;</c>,
/// alive until the end of the scope, with the same C# type as before (a double gives a Float64 Scalar, an int or long an
/// Int64 one) so results do not change. TorchSharp itself makes an alpha Scalar of 1 in <c>add(Scalar)</c> (and so in
/// <c>tensor + number</c> and <c>number − tensor</c>) and default start/step Scalars in <c>arange(stop)</c>: those calls
/// pass them explicitly (<c>add(s, one)</c>, <c>arange(zero, stop, one)</c>), the very values TorchSharp would use, and
/// tensor + tensor is written <see cref="Scalars.Plus"/>, whose alpha is rooted.
/// </para>
/// </summary>
public static class SamImageTransform
{
    public static readonly double[] PixelMean = [123.675, 116.28, 103.53];
    public static readonly double[] PixelStd = [58.395, 57.12, 57.375];

    /// <summary>The resized (h, w) for an image of the given size: scale = target / max(h, w), rounded half up, and at
    /// least 1 (AG-VAS: SAM's rounding gives 0 for a side under half a pixel after scaling, e.g. 6000x2 at 1024; a 0-pixel
    /// resize is an error in libtorch, so any image with at least one pixel keeps at least one row and column).</summary>
    public static (int Height, int Width) ResizedSize(int height, int width, int target)
    {
        double scale = (double)target / Math.Max(height, width);
        return (Math.Max(1, (int)(height * scale + 0.5)), Math.Max(1, (int)(width * scale + 0.5)));
    }

    /// <param name="image">[B, 3, H, W] float RGB on the 0–255 scale</param>
    /// <param name="target">encoder input size (1024 for SAM)</param>
    /// <returns>[B, 3, target, target]</returns>
    public static Tensor PreProcess(Tensor image, int target) => PreProcess(image, target, x =>
    {
        var mean = tensor(PixelMean, float32).view(1, 3, 1, 1);
        var std = tensor(PixelStd, float32).view(1, 3, 1, 1);
        return (x - mean) / std;                                                      // [B, 3, h, w]
    });

    /// <summary>SAM's geometry with another normalisation (the ResNet backbone's): longest side resized to
    /// <paramref name="target"/> (bilinear, antialiased), <paramref name="normalise"/>, zero-padded bottom/right, so that
    /// <see cref="PostProcess"/> inverts it.</summary>
    /// <param name="image">[B, 3, H, W] float RGB on the 0–255 scale</param>
    /// <param name="normalise">[B, 3, h, w] → [B, 3, h, w]</param>
    /// <returns>[B, 3, target, target]</returns>
    public static Tensor PreProcess(Tensor image, int target, Func<Tensor, Tensor> normalise)
    {
        using var scope = NewDisposeScope();
        var (h, w) = ResizedSize((int)image.shape[2], (int)image.shape[3], target);
        var x = image.to(float32);
        if (h != image.shape[2] || w != image.shape[3])
            x = nn.functional.interpolate(x, size: [h, w], mode: InterpolationMode.Bilinear, align_corners: false, antialias: true); // [B, 3, h, w]
        x = normalise(x);                                                             // [B, 3, h, w]
        x = nn.functional.pad(x, [0, target - w, 0, target - h]);                     // [B, 3, target, target]
        return x.MoveToOuterDisposeScope();
    }

    /// <param name="maps">[B, C, h_lr, w_lr] decoder maps (logits or probabilities)</param>
    /// <param name="target">encoder input size the maps cover (1024 for SAM)</param>
    /// <param name="originalHeight">original image height</param>
    /// <param name="originalWidth">original image width</param>
    /// <returns>[B, C, originalHeight, originalWidth]</returns>
    public static Tensor PostProcess(Tensor maps, int target, int originalHeight, int originalWidth)
    {
        using var scope = NewDisposeScope();
        var (h, w) = ResizedSize(originalHeight, originalWidth, target);
        var x = nn.functional.interpolate(maps, size: [target, target], mode: InterpolationMode.Bilinear, align_corners: false); // [B, C, target, target]
        x = x[.., .., ..h, ..w];                                                       // [B, C, h, w]
        x = nn.functional.interpolate(x, size: [originalHeight, originalWidth], mode: InterpolationMode.Bilinear, align_corners: false); // [B, C, H, W]
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// SigLIP's input convention as LLaVA-OneVision's base image: resize to size×size (bicubic, antialiased), scale to
    /// [0, 1], normalise with mean = std = 0.5. image: [B, 3, H, W] on the 0–255 scale → [B, 3, size, size].
    /// </summary>
    public static Tensor SiglipPreProcess(Tensor image, int size)
    {
        using var scope = NewDisposeScope();
        using Scalar max = 255.0, half = 0.5;
        var x = image.to(float32);
        if (x.shape[2] != size || x.shape[3] != size)
            x = nn.functional.interpolate(x, size: [size, size], mode: InterpolationMode.Bicubic, align_corners: false, antialias: true); // [B, 3, size, size]
        return ((x / max - half) / half).MoveToOuterDisposeScope();
    }
}
