using AgVas.Data;
using SkiaSharp;

namespace AgVas.Synthesis;

/// <summary>PNG writing tuned for bulk synthesis: <see cref="ImageIO"/> encodes with Skia's default quality (zlib level 9,
/// all row filters), which cost several times the generation itself; the Sub filter at zlib level <see cref="ZlibLevel"/>
/// took about a third of the CPU for files 5 % larger (measured on 300 samples: the grainy textures barely compress anyway). Files are still written atomically (<see cref="AtomicFile"/>) and decode to the same pixels.</summary>
internal static class PngFiles
{
    public const int ZlibLevel = 1;

    public static void SaveRgb(RgbImage image, string path)
    {
        var rgba = new byte[image.Width * image.Height * 4];
        var rgb = image.Pixels;
        for (int i = 0, j = 0; j < rgb.Length; i += 4, j += 3)
        {
            rgba[i] = rgb[j];
            rgba[i + 1] = rgb[j + 1];
            rgba[i + 2] = rgb[j + 2];
            rgba[i + 3] = 255;
        }
        Write(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul), rgba, path);
    }

    public static void SaveMask(BinaryMask mask, string path)
    {
        var grey = new byte[mask.Width * mask.Height];
        for (int i = 0; i < grey.Length; i++) grey[i] = mask.Data[i] ? (byte)255 : (byte)0;
        Write(new SKImageInfo(mask.Width, mask.Height, SKColorType.Gray8, SKAlphaType.Opaque), grey, path);
    }

    private static unsafe void Write(SKImageInfo info, byte[] pixels, string path)
    {
        fixed (byte* p = pixels)
        {
            using var pixmap = new SKPixmap(info, (IntPtr)p, info.RowBytes);
            using var data = pixmap.Encode(new SKPngEncoderOptions(SKPngEncoderFilterFlags.Sub, ZlibLevel))
                ?? throw new DataException(path, "PNG encoding failed");
            AtomicFile.Write(path, s => data.SaveTo(s));
        }
    }
}
