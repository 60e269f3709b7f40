using TorchSharp;
using AgVas.Checkpoints;
using AgVas.Data;
using AgVas.Modeling;
using static TorchSharp.torch;

namespace AgVas.Context;

/// <summary>
/// How context scoring (#16) describes an image's patches: the frozen ImageNet <see cref="ResNet18"/> at
/// <see cref="ImageSize"/> (longest side, zero-padded like the model's input), stage 2 and bilinearly upsampled stage 3
/// at stride 8, each averaged over an r×r neighbourhood for every r in <see cref="Radii"/> (MuSc's aggregation over
/// several neighbourhood sizes), L2-normalised over channels and concatenated (scaled by 1/√2, so unit length).
/// </summary>
/// <param name="ImageSize">backbone input size (the longest side is resized to it)</param>
/// <param name="Radii">neighbourhood sizes r (odd), one descriptor set per r</param>
public sealed record PatchDescriptorConfig(int ImageSize = 256, int[]? Radii = null)
{
    public int[] Radii { get; init; } = Radii ?? [1, 3, 5];

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (ImageSize is < 32 or > 2048) throw new ArgumentException($"context image size must be in [32, 2048], got {ImageSize}");
        if (Radii.Length == 0 || Radii.Any(r => r < 1 || r % 2 == 0 || r > 15))
            throw new ArgumentException($"context radii must be odd numbers in [1, 15], got [{string.Join(", ", Radii)}]");
    }
}

/// <summary>One image's patch descriptors. Owns its tensor.</summary>
/// <param name="Features">[R, h·w, 384] unit-length descriptors of the valid (unpadded) stride-8 grid, one set per radius</param>
/// <param name="GridHeight">h: rows of the valid grid</param>
/// <param name="GridWidth">w: columns of the valid grid</param>
/// <param name="ImageHeight">the original image's height</param>
/// <param name="ImageWidth">the original image's width</param>
public sealed record PatchDescriptors(Tensor Features, int GridHeight, int GridWidth, int ImageHeight, int ImageWidth) : IDisposable
{
    public const int Stride = 8;
    public const int Channels = 128 + 256;

    /// <summary>Computes the descriptors of <paramref name="image"/> (no gradient; thread-safe: the backbone is shared and read-only).</summary>
    public static PatchDescriptors Compute(RgbImage image, PatchDescriptorConfig config)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (model, preprocess) = ResNet18Onnx.Shared;
        int s = config.ImageSize;
        var x = SamImageTransform.PreProcess(AgVasInputs.ImageTensor(image), s, preprocess.Apply); // [1, 3, S, S]
        using var stages = model.forward(x);
        var s2 = stages.Stage2;                                                                    // [1, 128, S/8, S/8]
        long gh = s2.shape[2], gw = s2.shape[3];
        var s3 = nn.functional.interpolate(stages.Stage3, size: [gh, gw], mode: InterpolationMode.Bilinear, align_corners: false); // [1, 256, S/8, S/8]
        var (h, w) = SamImageTransform.ResizedSize(image.Height, image.Width, s);
        int vh = Math.Max(1, Math.Min((int)gh, (h + Stride - 1) / Stride)), vw = Math.Max(1, Math.Min((int)gw, (w + Stride - 1) / Stride));
        using Scalar invSqrt2 = 1 / Math.Sqrt(2);
        var sets = new List<Tensor>();
        foreach (int r in config.Radii)
        {
            // Average over the r×r neighbourhood inside the valid region (padding excluded from the mean).
            var a2 = Neighbourhood(s2[.., .., ..vh, ..vw], r);                                      // [1, 128, vh, vw]
            var a3 = Neighbourhood(s3[.., .., ..vh, ..vw], r);                                      // [1, 256, vh, vw]
            var f = cat([nn.functional.normalize(a2, dim: 1), nn.functional.normalize(a3, dim: 1)], dim: 1) * invSqrt2; // [1, 384, vh, vw]
            sets.Add(f.flatten(2).transpose(1, 2));                                                // [1, vh·vw, 384]
        }
        var features = cat(sets, 0).contiguous();                                                  // [R, vh·vw, 384]
        return new PatchDescriptors(features.MoveToOuterDisposeScope(), vh, vw, image.Height, image.Width);
    }

    private static Tensor Neighbourhood(Tensor x, int r) => r == 1
        ? x
        : nn.functional.avg_pool2d(x, kernel_size: r, stride: 1, padding: r / 2, count_include_pad: false);

    /// <summary>A per-patch score [h·w] (or [h, w]) on the valid grid → [H, W] at the original image size: each cell
    /// covers 8×8 pixels of the resized image (bilinear), the part beyond the resized image is cropped, and the rest is
    /// resized to the original (bilinear), the geometry of <see cref="SamImageTransform.PostProcess"/>.</summary>
    public Tensor ToImage(Tensor gridScores, int imageSize)
    {
        using var scope = NewDisposeScope();
        var (h, w) = SamImageTransform.ResizedSize(ImageHeight, ImageWidth, imageSize);
        var g = gridScores.reshape(1, 1, GridHeight, GridWidth).to(float32);                       // [1, 1, gh, gw]
        var up = nn.functional.interpolate(g, size: [GridHeight * Stride, GridWidth * Stride], mode: InterpolationMode.Bilinear, align_corners: false); // [1, 1, 8gh, 8gw]
        up = up[.., .., ..Math.Max(1, h), ..Math.Max(1, w)];                                     // [1, 1, h, w]
        up = nn.functional.interpolate(up, size: [ImageHeight, ImageWidth], mode: InterpolationMode.Bilinear, align_corners: false); // [1, 1, H, W]
        return up[0, 0].MoveToOuterDisposeScope();                                                 // [H, W]
    }

    /// <summary>Patches that must not serve as another image's look-alikes, [h·w] bool (null: none), e.g. those inside
    /// the image's own AG-VAS mask (<see cref="WithExcluded"/>). Owned by this record.</summary>
    public Tensor? Excluded { get; init; }

    /// <summary>These descriptors with the grid cells that <paramref name="mask"/> (at the original image size) touches
    /// marked <see cref="Excluded"/>: a cell covers 8×8 pixels of the image resized to <paramref name="imageSize"/>, and
    /// one masked pixel excludes it. A mask that touches every cell excludes none (an image must stay comparable).
    /// Takes ownership of this record's tensors (dispose the result, not this).</summary>
    public PatchDescriptors WithExcluded(BinaryMask mask, int imageSize)
    {
        if (mask.Width != ImageWidth || mask.Height != ImageHeight)
            throw new ArgumentException($"the mask is {mask.Width}×{mask.Height}, the image {ImageWidth}×{ImageHeight}");
        using var scope = NewDisposeScope();
        var (h, w) = SamImageTransform.ResizedSize(ImageHeight, ImageWidth, imageSize);
        var m = tensor(mask.Data).reshape(1, 1, ImageHeight, ImageWidth).to(float32);              // [1, 1, H, W]
        m = nn.functional.interpolate(m, size: [Math.Max(1, h), Math.Max(1, w)], mode: InterpolationMode.Area); // [1, 1, h, w]: > 0 where any source pixel is masked
        m = nn.functional.pad(m, [0, GridWidth * Stride - m.shape[3], 0, GridHeight * Stride - m.shape[2]]); // [1, 1, 8gh, 8gw]
        using Scalar zero = 0;
        var cells = nn.functional.max_pool2d(m, Stride).gt(zero).flatten();                          // [h·w]
        var excluded = cells.all().item<bool>() || !cells.any().item<bool>() ? null : cells.MoveToOuterDisposeScope();
        Excluded?.Dispose();
        return this with { Excluded = excluded };
    }

    public void Dispose()
    {
        Features.Dispose();
        Excluded?.Dispose();
    }
}
