using AgVas.Data;
using SkiaSharp;

namespace AgVas.Tests.Data;

/// <summary>Writes small seeded images and masks for the dataset-layout tests.</summary>
internal sealed class DummyData(int seed)
{
    private readonly Random _rng = new(seed);

    public RgbImage Image(string path, int width = 8, int height = 6)
    {
        var pixels = new byte[width * height * 3];
        _rng.NextBytes(pixels);
        var image = new RgbImage(width, height, pixels);
        if (path.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase)) WriteJpeg(image, path);
        else ImageIO.SaveRgbPng(image, path);
        return image;
    }

    /// <summary>A random 0/255 mask with at least one foreground pixel.</summary>
    public BinaryMask Mask(string path, int width = 8, int height = 6)
    {
        var data = Enumerable.Range(0, width * height).Select(_ => _rng.Next(4) == 0).ToArray();
        data[_rng.Next(data.Length)] = true;
        var mask = new BinaryMask(width, height, data);
        ImageIO.SaveMaskPng(mask, path);
        return mask;
    }

    /// <summary>An 8-bit grey PNG holding <paramref name="values"/> as stored (e.g. VisA's class id 1).</summary>
    public static void GreyPng(string path, int width, int height, byte[] values) =>
        Encode(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque), values, SKEncodedImageFormat.Png, path);

    private static void Encode(SKImageInfo info, byte[] pixels, SKEncodedImageFormat format, string path)
    {
        using var bitmap = new SKBitmap(info);
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        using var data = bitmap.Encode(format, 90);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, data.ToArray());
    }

    private static void WriteJpeg(RgbImage image, string path)
    {
        var rgba = new byte[image.Width * image.Height * 4];
        for (int i = 0; i < image.Width * image.Height; i++)
        {
            rgba[4 * i] = image.Pixels[3 * i];
            rgba[4 * i + 1] = image.Pixels[3 * i + 1];
            rgba[4 * i + 2] = image.Pixels[3 * i + 2];
            rgba[4 * i + 3] = 255;
        }
        Encode(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque), rgba, SKEncodedImageFormat.Jpeg, path);
    }
}
