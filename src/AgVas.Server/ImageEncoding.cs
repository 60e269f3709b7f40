using AgVas.Data;
using AgVas.Inference;
using SkiaSharp;

namespace AgVas.Server;

/// <summary>A prediction as the API answers it: the mask and the overlay as base64 PNGs.</summary>
internal static class ImageEncoding
{
    /// <summary>The API's answer for one prediction of <paramref name="image"/>.</summary>
    public static SegmentResponse Response(Prediction prediction, RgbImage image, string source) => new(
        prediction.Width, prediction.Height, prediction.Score, prediction.IsAnomalous, prediction.AnomalyFraction, prediction.Text,
        Convert.ToBase64String(MaskPng(prediction.Mask)),
        Convert.ToBase64String(ImageIO.EncodeRgbPng(prediction.RenderOverlay(image), "overlay", PngCompression.Fast)),
        prediction.AnomalyPixels, prediction.Mode.ToString(), source);

    /// <summary>The mask as an 8-bit grey PNG (0 or 255), as <see cref="Prediction.SaveMask"/> writes it, in memory.</summary>
    public static byte[] MaskPng(BinaryMask mask)
    {
        var info = new SKImageInfo(mask.Width, mask.Height, SKColorType.Gray8, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        var pixels = bitmap.GetPixelSpan();
        for (int i = 0; i < mask.Data.Length; i++) pixels[i] = mask.Data[i] ? (byte)255 : (byte)0;
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100) ?? throw new InvalidOperationException("PNG encoding of the mask failed");
        return data.ToArray();
    }
}
