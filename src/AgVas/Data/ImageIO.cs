using SkiaSharp;

namespace AgVas.Data;

/// <summary>Image and mask files (PNG, JPEG, BMP, ...) through SkiaSharp. Every error names the file.</summary>
public static class ImageIO
{
    /// <summary>Decodes any supported image to 8-bit RGB (alpha dropped, grey replicated).</summary>
    public static RgbImage LoadRgb(string path)
    {
        using var bitmap = Decode(path);
        var rgb = new byte[bitmap.Width * bitmap.Height * 3];
        var rgba = bitmap.GetPixelSpan();
        for (int i = 0, j = 0; j < rgb.Length; i += 4, j += 3)
        {
            rgb[j] = rgba[i];
            rgb[j + 1] = rgba[i + 1];
            rgb[j + 2] = rgba[i + 2];
        }
        return new RgbImage(bitmap.Width, bitmap.Height, rgb);
    }

    /// <summary>Loads a mask file and binarises its luminance by <paramref name="rule"/>.</summary>
    public static BinaryMask LoadMask(string path, MaskRule rule = MaskRule.GreaterThanZero)
    {
        using var bitmap = Decode(path);
        var rgba = bitmap.GetPixelSpan();
        var data = new bool[bitmap.Width * bitmap.Height];
        for (int p = 0; p < data.Length; p++)
        {
            int i = p * 4;
            int lum = Math.Max(rgba[i], Math.Max(rgba[i + 1], rgba[i + 2]));
            data[p] = rule == MaskRule.GreaterThanZero ? lum > 0 : Luma(rgba[i], rgba[i + 1], rgba[i + 2]) >= 128;
        }
        return new BinaryMask(bitmap.Width, bitmap.Height, data);
    }

    /// <summary>ITU-R 601 luma, as PIL's convert("L").</summary>
    private static int Luma(byte r, byte g, byte b) => (r * 299 + g * 587 + b * 114 + 500) / 1000;

    private static SKBitmap Decode(string path)
    {
        if (!File.Exists(path)) throw new DataException(path, "file not found");
        using var codec = SKCodec.Create(path, out var result)
            ?? throw new DataException(path, $"not a readable image ({result})");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var bitmap = new SKBitmap(info);
        var status = codec.GetPixels(info, bitmap.GetPixels());
        if (status != SKCodecResult.Success)
        {
            bitmap.Dispose();
            throw new DataException(path, status == SKCodecResult.IncompleteInput ? "truncated image" : $"cannot decode image ({status})");
        }
        return bitmap;
    }

    /// <summary>Writes an RGB image as PNG, atomically (temporary file, then rename).</summary>
    public static void SaveRgbPng(RgbImage image, string path)
    {
        var rgba = new byte[image.Width * image.Height * 4];
        for (int i = 0, j = 0; j < image.Pixels.Length; i += 4, j += 3)
        {
            rgba[i] = image.Pixels[j];
            rgba[i + 1] = image.Pixels[j + 1];
            rgba[i + 2] = image.Pixels[j + 2];
            rgba[i + 3] = 255;
        }
        SaveRgbaPng(rgba, image.Width, image.Height, path);
    }

    /// <summary>Writes a mask as an 8-bit grey PNG (0 or 255), atomically.</summary>
    public static void SaveMaskPng(BinaryMask mask, string path)
    {
        var grey = new byte[mask.Width * mask.Height];
        for (int i = 0; i < grey.Length; i++) grey[i] = mask.Data[i] ? (byte)255 : (byte)0;
        var info = new SKImageInfo(mask.Width, mask.Height, SKColorType.Gray8, SKAlphaType.Opaque);
        WritePng(info, grey, path);
    }

    private static void SaveRgbaPng(byte[] rgba, int width, int height, string path) =>
        WritePng(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul), rgba, path);

    private static unsafe void WritePng(SKImageInfo info, byte[] pixels, string path)
    {
        fixed (byte* p = pixels)
        {
            using var pixmap = new SKPixmap(info, (IntPtr)p, info.RowBytes);
            using var data = pixmap.Encode(SKEncodedImageFormat.Png, 100)
                ?? throw new DataException(path, "PNG encoding failed");
            AtomicFile.Write(path, s => data.SaveTo(s));
        }
    }
}
