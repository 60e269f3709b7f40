using System.Buffers.Binary;
using System.Text;
using AgVas.Data;
using AgVas.Tests.Data;
using SkiaSharp;

namespace AgVas.Tests.Reliability;

/// <summary>One generated input: its file name, bytes, and whether it must be processed (good) or refused (bad).
/// A good image has <paramref name="Width"/> x <paramref name="Height"/> as displayed.</summary>
internal sealed record CorpusFile(string Name, byte[] Bytes, bool Good, int Width = 0, int Height = 0, string Why = "");

/// <summary>
/// The bad and odd inputs of issue #18, generated at run time (nothing big is committed): seed images of every format
/// Skia decodes (PNG 8/16-bit, grey+alpha, palette, interlaced; JPEG baseline, progressive, CMYK, EXIF-rotated; BMP
/// 24-bit, 1-bit, palette; GIF; WebP lossy and lossless), each truncated at many points, plus files that are no
/// image, lie about their size or carry the wrong extension, extreme aspect ratios and odd file names.
/// </summary>
internal static class BadInputCorpus
{
    /// <summary>Valid images of every format, with their displayed size.</summary>
    public static List<CorpusFile> Seeds()
    {
        var rgb = Pattern(40, 28);
        var seeds = new List<CorpusFile>
        {
            new("seed_rgb.png", Encode(rgb, SKEncodedImageFormat.Png, 100), true, 40, 28),
            new("seed_baseline.jpg", Encode(rgb, SKEncodedImageFormat.Jpeg, 90), true, 40, 28),
            new("seed_lossy.webp", Encode(rgb, SKEncodedImageFormat.Webp, 80), true, 40, 28),
            new("seed_lossless.webp", Encode(rgb, SKEncodedImageFormat.Webp, 100), true, 40, 28),
            new("seed_24bit.bmp", Bmp24(rgb), true, 40, 28),
            new("seed_palette.gif", Gif(36, 20), true, 36, 20),
        };
        foreach (var name in new[] { "progressive.jpg", "cmyk.jpg", "grey16.png", "rgb16.png", "grey_alpha.png", "palette.png", "interlaced_grey4.png",
                     "onebit.png", "onebit.bmp", "palette.bmp", "oriented6.jpg", "grey_mask.jpg" })
        {
            var bytes = File.ReadAllBytes(DataFixtures.CorpusFile(name));
            var size = ImageIO.ReadSize(bytes, name);
            seeds.Add(new($"seed_{name}", bytes, true, size.Width, size.Height));
        }
        return seeds;
    }

    /// <summary>Each seed cut at many points, from inside the signature to one byte short of the end.</summary>
    public static IEnumerable<CorpusFile> Truncations(IEnumerable<CorpusFile> seeds)
    {
        foreach (var seed in seeds)
        {
            int n = seed.Bytes.Length;
            var cuts = new[] { 1, 3, 7, 16, 40, n / 5, n / 3, n / 2, 2 * n / 3, 4 * n / 5, n - 40, n - 9, n - 2, n - 1 }
                .Where(c => c > 0 && c < n).Distinct().Order();
            foreach (int cut in cuts)
                yield return new($"cut{cut:D5}_{seed.Name}", seed.Bytes[..cut], false, Why: $"{seed.Name} cut to {cut} of {n} bytes");
        }
    }

    /// <summary>Files that are no image, lie, or carry another format's extension; extreme sizes; odd names.</summary>
    public static IEnumerable<CorpusFile> Others()
    {
        var png = Encode(Pattern(30, 20), SKEncodedImageFormat.Png, 100);
        var jpg = Encode(Pattern(30, 20), SKEncodedImageFormat.Jpeg, 90);
        yield return new("text.png", "this is not an image, only text\n"u8.ToArray(), false, Why: "text named .png");
        yield return new("html.jpg", "<!DOCTYPE html><html><body>404</body></html>"u8.ToArray(), false, Why: "HTML named .jpg");
        yield return new("zeros.bmp", new byte[4096], false, Why: "zeros named .bmp");
        yield return new("empty.png", [], false, Why: "empty");
        yield return new("noise.webp", Noise(5000, 1), false, Why: "random bytes");
        yield return new("signature_only.png", png[..8], false, Why: "PNG signature only");
        yield return new("lying_header.png", File.ReadAllBytes(DataFixtures.CorpusFile("lying_header.png")), false, Why: "IHDR claims 8000x8000");
        yield return new("huge_header.png", File.ReadAllBytes(DataFixtures.CorpusFile("huge_header.png")), false, Why: "over the pixel limit");
        yield return new("huge.bmp", BmpHeaderOnly(200_000, 200_000), false, Why: "BMP header claiming 4e10 pixels");
        yield return new("truncated.png", File.ReadAllBytes(DataFixtures.CorpusFile("truncated.png")), false, Why: "truncated");
        yield return new("truncated.jpg", File.ReadAllBytes(DataFixtures.CorpusFile("truncated.jpg")), false, Why: "truncated");
        yield return new("jpeg_named.png", jpg, true, 30, 20);
        yield return new("png_named.jpg", png, true, 30, 20);
        yield return new("x.png", png, true, 30, 20);
        yield return new("x.jpg", jpg, true, 30, 20);
        yield return new("X.bmp", Bmp24(Pattern(30, 20)), true, 30, 20);
        yield return new("wide 6000x2.png", Encode(Pattern(6000, 2), SKEncodedImageFormat.Png, 100), true, 6000, 2);
        yield return new("tall 2x6000.png", Encode(Pattern(2, 6000), SKEncodedImageFormat.Png, 100), true, 2, 6000);
        yield return new("one pixel [1x1].png", Encode(Pattern(1, 1), SKEncodedImageFormat.Png, 100), true, 1, 1);
        yield return new("line (1x37).bmp", Bmp24(Pattern(1, 37)), true, 1, 37);
        yield return new("ünïcödé #%&'();=@ spaced.jpg", jpg, true, 30, 20);
        yield return new("-leading-dash.png", png, true, 30, 20);
    }

    /// <summary>Seeds, truncations and the others.</summary>
    public static List<CorpusFile> All()
    {
        var seeds = Seeds();
        return [.. seeds, .. Truncations(seeds), .. Others()];
    }

    /// <summary>Writes the files into <paramref name="folder"/>.</summary>
    public static List<CorpusFile> Write(string folder, IEnumerable<CorpusFile> files)
    {
        Directory.CreateDirectory(folder);
        var list = files.ToList();
        foreach (var f in list) File.WriteAllBytes(Path.Combine(folder, f.Name), f.Bytes);
        return list;
    }

    /// <summary>An RGB test pattern whose top-left quarter is brighter (it shows the orientation).</summary>
    public static RgbImage Pattern(int width, int height)
    {
        var pixels = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int i = (y * width + x) * 3;
                bool corner = x < width / 2 && y < height / 2;
                pixels[i] = (byte)(corner ? 240 : x * 7 % 200);
                pixels[i + 1] = (byte)(y * 11 % 200);
                pixels[i + 2] = (byte)((x + y) * 3 % 256);
            }
        return new RgbImage(width, height, pixels);
    }

    private static byte[] Noise(int n, int seed)
    {
        var bytes = new byte[n];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static byte[] Encode(RgbImage image, SKEncodedImageFormat format, int quality)
    {
        var rgba = new byte[image.Width * image.Height * 4];
        for (int i = 0, j = 0; j < image.Pixels.Length; i += 4, j += 3)
            (rgba[i], rgba[i + 1], rgba[i + 2], rgba[i + 3]) = (image.Pixels[j], image.Pixels[j + 1], image.Pixels[j + 2], 255);
        using var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        using var data = bitmap.Encode(format, quality) ?? throw new InvalidOperationException($"cannot encode {format}");
        return data.ToArray();
    }

    /// <summary>A 24-bit bottom-up BMP.</summary>
    private static byte[] Bmp24(RgbImage image)
    {
        int row = (image.Width * 3 + 3) / 4 * 4, size = 54 + row * image.Height;
        var b = new byte[size];
        WriteBmpHeader(b, image.Width, image.Height, size, row * image.Height);
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
            {
                int s = (y * image.Width + x) * 3, d = 54 + (image.Height - 1 - y) * row + x * 3;
                (b[d], b[d + 1], b[d + 2]) = (image.Pixels[s + 2], image.Pixels[s + 1], image.Pixels[s]);
            }
        return b;
    }

    private static byte[] BmpHeaderOnly(int width, int height)
    {
        var b = new byte[54 + 64];
        WriteBmpHeader(b, width, height, b.Length, 64);
        return b;
    }

    private static void WriteBmpHeader(byte[] b, int width, int height, int fileSize, int imageSize)
    {
        b[0] = (byte)'B';
        b[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(2), fileSize);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(22), height);
        BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(28), 24);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(34), imageSize);
    }

    /// <summary>A GIF89a with a 256-grey palette; LZW written as literals with a clear code every 250 pixels, so the
    /// code width stays 9 bits (a valid if uncompressed stream).</summary>
    private static byte[] Gif(int width, int height)
    {
        var o = new MemoryStream();
        o.Write("GIF89a"u8);
        o.Write([(byte)width, (byte)(width >> 8), (byte)height, (byte)(height >> 8), 0xF7, 0, 0]);
        for (int i = 0; i < 256; i++) o.Write([(byte)i, (byte)i, (byte)(255 - i)]);
        o.Write([0x2C, 0, 0, 0, 0, (byte)width, (byte)(width >> 8), (byte)height, (byte)(height >> 8), 0, 8]);
        var codes = new List<int> { 256 };
        for (int p = 0; p < width * height; p++)
        {
            if (p > 0 && p % 250 == 0) codes.Add(256);
            codes.Add((p % width * 7 + p / width * 13) % 256);
        }
        codes.Add(257);
        var packed = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (int code in codes)
        {
            buffer |= code << bits;
            bits += 9;
            while (bits >= 8)
            {
                packed.Add((byte)buffer);
                buffer >>= 8;
                bits -= 8;
            }
        }
        if (bits > 0) packed.Add((byte)buffer);
        foreach (var chunk in packed.Chunk(255))
        {
            o.WriteByte((byte)chunk.Length);
            o.Write(chunk);
        }
        o.Write([0, 0x3B]);
        return o.ToArray();
    }

    /// <summary>Bytes as text, for files that must be readable in a failure message.</summary>
    public static string Describe(CorpusFile f) => f.Good ? $"{f.Name} ({f.Width}x{f.Height})" : $"{f.Name} ({f.Why})";

    /// <summary>UTF-8 bytes.</summary>
    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
