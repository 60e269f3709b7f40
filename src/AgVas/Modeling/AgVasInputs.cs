using AgVas.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Modeling;

/// <summary>Converts images and masks into the two encoder frames (docs/design.md §3.1, inputs): the semantic encoder's square
/// SigLIP input and the pixel encoder's SAM input (longest side resized, normalised, zero-padded bottom/right).</summary>
public static class AgVasInputs
{
    /// <summary>RGB bytes → [1, 3, H, W] float on the 0–255 scale.</summary>
    public static Tensor ImageTensor(RgbImage image)
    {
        using var scope = NewDisposeScope();
        var hwc = tensor(image.Pixels, dtype: ScalarType.Byte).view(image.Height, image.Width, 3);       // [H, W, 3]
        return hwc.permute(2, 0, 1).unsqueeze(0).to_type(ScalarType.Float32).MoveToOuterDisposeScope();  // [1, 3, H, W]
    }

    /// <summary>Images → (semantic [B, 3, S_s, S_s], pixel [B, 3, S_p, S_p]). With the ResNet backbone both are the
    /// same [B, 3, S, S] tensor: longest side resized to S (bilinear, antialiased), BGR minus the mean image, zero-padded
    /// bottom/right (SAM's geometry, so <see cref="SamImageTransform.PostProcess"/> inverts it).</summary>
    /// <param name="size">With the ResNet backbone: the input side S, default <see cref="ResNetEncoderConfig.ImageSize"/>
    /// (any of <see cref="ResNetEncoderConfig.InferenceSizes"/>).</param>
    public static (Tensor Semantic, Tensor Pixel) Images(IReadOnlyList<RgbImage> images, VisionConfig config, int? size = null)
    {
        using var scope = NewDisposeScope();
        if (config.ResNet is { } resnet)
        {
            var preprocess = Checkpoints.ResNet18Onnx.Shared.Preprocess;
            int side = size ?? resnet.ImageSize;
            var rows = images.Select(image => SamImageTransform.PreProcess(ImageTensor(image), side, preprocess.Apply)).ToList(); // [1, 3, S, S] each
            var both = cat(rows, 0);                                                                     // [B, 3, S, S]
            return (both.alias().MoveToOuterDisposeScope(), both.MoveToOuterDisposeScope());
        }
        var semantic = new List<Tensor>();
        var pixel = new List<Tensor>();
        foreach (var image in images)
        {
            var x = ImageTensor(image);                                                                  // [1, 3, H, W]
            semantic.Add(SamImageTransform.SiglipPreProcess(x, config.SemanticEncoder.ImageSize));      // [1, 3, S_s, S_s]
            pixel.Add(SamImageTransform.PreProcess(x, config.PixelEncoder.ImageSize));                  // [1, 3, S_p, S_p]
        }
        return (cat(semantic, 0).MoveToOuterDisposeScope(), cat(pixel, 0).MoveToOuterDisposeScope());  // [B, 3, S, S] each
    }

    /// <summary>Masks → [B, S_p, S_p] float {0, 1} in the pixel encoder's frame (resized like the image, thresholded at
    /// 0.5, zero-padded).</summary>
    public static Tensor Masks(IReadOnlyList<BinaryMask> masks, int target)
    {
        using var scope = NewDisposeScope();
        using Scalar half = 0.5;
        var rows = new List<Tensor>();
        foreach (var m in masks)
        {
            var (h, w) = SamImageTransform.ResizedSize(m.Height, m.Width, target);
            var x = tensor(m.Data, dtype: ScalarType.Bool).view(1, 1, m.Height, m.Width).to_type(ScalarType.Float32); // [1, 1, H, W]
            if (h != m.Height || w != m.Width)
                x = nn.functional.interpolate(x, size: [h, w], mode: InterpolationMode.Bilinear, align_corners: false).gt(half).to_type(ScalarType.Float32); // [1, 1, h, w]
            rows.Add(nn.functional.pad(x, [0, target - w, 0, target - h]).view(1, target, target));     // [1, S_p, S_p]
        }
        return cat(rows, 0).MoveToOuterDisposeScope();                                                  // [B, S_p, S_p]
    }
}
