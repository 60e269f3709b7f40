using System.Buffers.Binary;
using SkiaSharp;

namespace AgVas.Data;

/// <summary>
/// Image and mask files (PNG, JPEG, BMP, WebP, GIF) through SkiaSharp, plus our own PNG sample reader for masks.
/// Every error is a one-line <see cref="DataException"/> naming the file.
/// </summary>
/// <remarks>
/// Mask luminance is defined as the ground-truth collector defined it (PIL's <c>convert("L")</c>):
/// <c>L = (19595 R + 38470 G + 7471 B + 32768) &gt;&gt; 16</c>, alpha ignored, grey taken as is, 1-bit as 0/255.
/// Two extensions keep information PIL's 8-bit conversion would lose: a 16-bit PNG is binarised on its 16-bit
/// luminance (<c>&gt; 0</c>, or <c>&gt;= 128·257</c> for <see cref="MaskRule.AtLeast128"/>), and in a palette PNG a
/// non-zero palette index counts as <c>&gt; 0</c> even when its palette colour is black (VisA stores class ids).
/// The format is found from the content, never from the file name; a file whose content is no supported format, a
/// truncated file of any format (including a JPEG or GIF that a lenient decoder would finish in grey) and an image of
/// more than <see cref="MaxPixels"/> pixels are errors. EXIF orientation is applied to images and masks alike (each
/// file's own tag; <c>ReadSize</c> gives the oriented size), so a mask always lies over its image as displayed.
/// </remarks>
public static class ImageIO
{
    /// <summary>Largest accepted image, in pixels (a lying header must not trigger a huge allocation).</summary>
    public const long MaxPixels = 1L << 27;
    /// <summary>Largest accepted image file, in bytes.</summary>
    public const long MaxFileBytes = 1L << 30;

    /// <summary>The 16-bit level at or above which <see cref="MaskRule.AtLeast128"/> marks a pixel (128 on the 8-bit scale).</summary>
    private const int AtLeast128Level16 = 128 * 257;

    /// <summary>Decodes any supported image file to 8-bit RGB (alpha dropped, grey replicated, palette expanded).</summary>
    public static RgbImage LoadRgb(string path) => LoadRgb(ReadFile(path), path);

    /// <summary>Decodes an image from a stream (read to its end); <paramref name="nameForErrors"/> names it in errors.</summary>
    public static RgbImage LoadRgb(Stream stream, string nameForErrors) => LoadRgb(ReadStream(stream, nameForErrors), nameForErrors);

    /// <summary>Decodes an image held in memory; <paramref name="nameForErrors"/> names it in errors.</summary>
    public static RgbImage LoadRgb(byte[] bytes, string nameForErrors)
    {
        using var bitmap = DecodeRgba(bytes, nameForErrors, out var origin);
        var rgb = new byte[bitmap.Width * bitmap.Height * 3];
        var rgba = bitmap.GetPixelSpan();
        for (int i = 0, j = 0; j < rgb.Length; i += 4, j += 3)
        {
            rgb[j] = rgba[i];
            rgb[j + 1] = rgba[i + 1];
            rgb[j + 2] = rgba[i + 2];
        }
        var (w, h, pixels) = Orient(bitmap.Width, bitmap.Height, rgb, 3, origin);
        return new RgbImage(w, h, pixels);
    }

    /// <summary>Loads a mask file and binarises it by <paramref name="rule"/> (see the class remarks for luminance).</summary>
    public static BinaryMask LoadMask(string path, MaskRule rule = MaskRule.GreaterThanZero) => LoadMask(ReadFile(path), path, rule);

    /// <summary>Loads a mask from a stream (read to its end) and binarises it by <paramref name="rule"/>.</summary>
    public static BinaryMask LoadMask(Stream stream, string nameForErrors, MaskRule rule = MaskRule.GreaterThanZero) =>
        LoadMask(ReadStream(stream, nameForErrors), nameForErrors, rule);

    /// <summary>Loads a mask held in memory and binarises it by <paramref name="rule"/>.</summary>
    public static BinaryMask LoadMask(byte[] bytes, string nameForErrors, MaskRule rule = MaskRule.GreaterThanZero)
    {
        if (PngSamples.HasSignature(bytes))
        {
            var mask = Binarise(PngSamples.Decode(bytes, nameForErrors, MaxPixels), rule);
            using var codec = CreateCodec(bytes, nameForErrors); // a PNG may carry an eXIf orientation too
            return OrientMask(mask, codec.EncodedOrigin);
        }
        using var bitmap = DecodeRgba(bytes, nameForErrors, out var origin);
        var rgba = bitmap.GetPixelSpan();
        var data = new bool[bitmap.Width * bitmap.Height];
        for (int p = 0; p < data.Length; p++)
            data[p] = Passes(Luma(rgba[4 * p], rgba[4 * p + 1], rgba[4 * p + 2]) * 257, rule);
        return OrientMask(new BinaryMask(bitmap.Width, bitmap.Height, data), origin);
    }

    private static BinaryMask OrientMask(BinaryMask mask, SKEncodedOrigin origin)
    {
        if (origin is SKEncodedOrigin.TopLeft or SKEncodedOrigin.Default) return mask;
        var bytes = Array.ConvertAll(mask.Data, b => b ? (byte)1 : (byte)0);
        var (w, h, oriented) = Orient(mask.Width, mask.Height, bytes, 1, origin);
        return new BinaryMask(w, h, Array.ConvertAll(oriented, b => b != 0));
    }

    /// <summary>Applies an EXIF orientation to interleaved pixels ([height, width, channels]): the stored image turned
    /// upright as a viewer shows it. Returns the upright size and pixels.</summary>
    internal static (int Width, int Height, byte[] Pixels) Orient(int width, int height, byte[] pixels, int channels, SKEncodedOrigin origin)
    {
        if (origin is SKEncodedOrigin.TopLeft or SKEncodedOrigin.Default) return (width, height, pixels);
        bool swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        int ow = swap ? height : width, oh = swap ? width : height;
        var result = new byte[pixels.Length];
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
            {
                // The stored pixel shown at (x, y) of the upright image.
                var (sx, sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (width - 1 - x, y),            // 2: mirrored horizontally
                    SKEncodedOrigin.BottomRight => (width - 1 - x, height - 1 - y), // 3: rotated 180°
                    SKEncodedOrigin.BottomLeft => (x, height - 1 - y),         // 4: mirrored vertically
                    SKEncodedOrigin.LeftTop => (y, x),                         // 5: transposed
                    SKEncodedOrigin.RightTop => (y, height - 1 - x),           // 6: rotated 90° clockwise to view
                    SKEncodedOrigin.RightBottom => (width - 1 - y, height - 1 - x), // 7: transverse
                    _ => (width - 1 - y, x),                                   // 8 (LeftBottom): rotated 90° counter-clockwise to view
                };
                Buffer.BlockCopy(pixels, (sy * width + sx) * channels, result, (y * ow + x) * channels, channels);
            }
        return (ow, oh, result);
    }

    /// <summary>
    /// Loads the mask files of one image and ORs them. No files gives an empty (all-normal) mask. A mask whose size
    /// differs from <paramref name="expectedWidth"/> x <paramref name="expectedHeight"/> is an error naming both files.
    /// </summary>
    public static BinaryMask LoadMasks(IEnumerable<string> paths, MaskRule rule, int expectedWidth, int expectedHeight, string imagePath)
    {
        var result = new BinaryMask(expectedWidth, expectedHeight);
        foreach (var path in paths)
        {
            var mask = LoadMask(path, rule);
            if (mask.Width != expectedWidth || mask.Height != expectedHeight)
                throw SizeMismatch(path, new ImageSize(mask.Width, mask.Height), imagePath, new ImageSize(expectedWidth, expectedHeight));
            for (int i = 0; i < result.Data.Length; i++) result.Data[i] |= mask.Data[i];
        }
        return result;
    }

    /// <summary>Reads an image's pixel size from its header, without decoding the pixels.</summary>
    public static ImageSize ReadSize(string path)
    {
        CheckFile(path);
        var head = new byte[SignatureBytes];
        int n;
        using (var file = File.OpenRead(path)) n = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        using var codec = SKCodec.Create(path, out var result) ?? throw NotAnImage(path, result, head.AsSpan(0, n));
        return UprightSize(codec);
    }

    /// <summary>Reads the pixel size of an image held in memory, without decoding the pixels.</summary>
    public static ImageSize ReadSize(byte[] bytes, string nameForErrors)
    {
        using var codec = CreateCodec(bytes, nameForErrors);
        return UprightSize(codec);
    }

    /// <summary>The size as displayed: width and height swapped by an EXIF orientation that turns the image by 90°.</summary>
    private static ImageSize UprightSize(SKCodec codec) =>
        codec.EncodedOrigin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom
            ? new ImageSize(codec.Info.Height, codec.Info.Width)
            : new ImageSize(codec.Info.Width, codec.Info.Height);

    internal static DataException SizeMismatch(string maskPath, ImageSize maskSize, string imagePath, ImageSize imageSize) =>
        new(maskPath, $"mask is {maskSize} but its image {imagePath} is {imageSize}");

    /// <summary>PIL's <c>convert("L")</c>: ITU-R 601 luma in 16-bit fixed point, rounded.</summary>
    internal static int Luma(int r, int g, int b) => (int)(((uint)r * 19595 + (uint)g * 38470 + (uint)b * 7471 + 0x8000) >> 16);

    private static bool Passes(int level16, MaskRule rule) => rule switch
    {
        MaskRule.GreaterThanZero => level16 > 0,
        MaskRule.AtLeast128 => level16 >= AtLeast128Level16,
        _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, "unknown mask rule"),
    };

    /// <summary>Binarises a PNG on its stored samples, on a 16-bit scale (8-bit values times 257).</summary>
    private static BinaryMask Binarise(PngSamples png, MaskRule rule)
    {
        var s = png.Samples;
        int n = png.Width * png.Height, ch = png.Channels, depth = png.BitDepth;
        var data = new bool[n];
        switch (png.ColorType)
        {
            case 0 or 4 when depth == 16: // grey (+ alpha, ignored)
                for (int p = 0; p < n; p++) data[p] = Passes(s[p * ch], rule);
                break;
            case 0 or 4: // 1/2/4/8-bit grey, scaled to 8 bits as PIL scales it, through a table of every stored value
            {
                int maxValue = (1 << depth) - 1;
                var table = new bool[maxValue + 1];
                for (int v = 0; v <= maxValue; v++) table[v] = Passes(v * 255 / maxValue * 257, rule);
                for (int p = 0; p < n; p++) data[p] = table[s[p * ch]];
                break;
            }
            case 2 or 6: // RGB (+ alpha, ignored)
                int scale = depth == 16 ? 1 : 257;
                for (int p = 0; p < n; p++) data[p] = Passes(Luma(s[p * ch], s[p * ch + 1], s[p * ch + 2]) * scale, rule);
                break;
            default: // palette: the colour's luminance, but a non-zero index is never background under > 0
            {
                var table = new bool[png.Palette.Length / 3];
                for (int i = 0; i < table.Length; i++)
                    table[i] = Passes(Luma(png.Palette[3 * i], png.Palette[3 * i + 1], png.Palette[3 * i + 2]) * 257, rule)
                               || (rule == MaskRule.GreaterThanZero && i != 0);
                for (int p = 0; p < n; p++) data[p] = table[s[p]];
                break;
            }
        }
        return new BinaryMask(png.Width, png.Height, data);
    }

    private static SKBitmap DecodeRgba(byte[] bytes, string name, out SKEncodedOrigin origin)
    {
        using var codec = CreateCodec(bytes, name);
        origin = codec.EncodedOrigin;
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var bitmap = new SKBitmap(info);
        var status = codec.GetPixels(info, bitmap.GetPixels());
        if (status == SKCodecResult.Success && MissingEnd(bytes, codec.EncodedFormat) is { } missing)
        {
            bitmap.Dispose();
            throw new DataException(name, $"truncated {codec.EncodedFormat} image ({missing})");
        }
        if (status == SKCodecResult.Success) return bitmap;
        bitmap.Dispose();
        throw status switch
        {
            SKCodecResult.IncompleteInput => new DataException(name, $"truncated {codec.EncodedFormat} image"),
            SKCodecResult.ErrorInInput => new DataException(name, $"corrupt {codec.EncodedFormat} image data"),
            _ => new DataException(name, $"cannot decode {codec.EncodedFormat} image ({status})"),
        };
    }

    /// <summary>
    /// What a decoder reported as complete lacks at its end, or null. Skia's JPEG decoder fills the rows a truncated
    /// progressive JPEG never reached with grey and reports success, and its GIF decoder does the same for a cut frame:
    /// a JPEG must end its last scan with the EOI marker (FF D9; an EXIF thumbnail's EOI comes before the main scans),
    /// a GIF with its trailer (3B), a PNG must hold its whole IEND chunk and a WebP the bytes its RIFF header announces.
    /// </summary>
    private static string? MissingEnd(byte[] bytes, SKEncodedImageFormat format)
    {
        var b = bytes.AsSpan();
        switch (format)
        {
            case SKEncodedImageFormat.Jpeg:
                int lastScan = b.LastIndexOf([(byte)0xFF, (byte)0xDA]);
                return b.LastIndexOf([(byte)0xFF, (byte)0xD9]) > lastScan ? null : "no end-of-image marker after the last scan";
            case SKEncodedImageFormat.Gif:
                // The trailer follows a block terminator; zero padding after it is tolerated.
                int last = b.LastIndexOfAnyExcept((byte)0);
                return last > 0 && b[last] == 0x3B && b[last - 1] == 0 ? null : "no GIF trailer";
            case SKEncodedImageFormat.Png:
                int end = b.LastIndexOf("IEND"u8);
                return end > 0 && end + 8 <= b.Length ? null : "no complete IEND chunk";
            case SKEncodedImageFormat.Webp:
                long riff = b.Length >= 8 ? BinaryPrimitives.ReadUInt32LittleEndian(b[4..]) : long.MaxValue;
                return 8 + riff <= b.Length ? null : $"the RIFF header announces {8 + riff} bytes, the file has {b.Length}";
            default:
                return null;
        }
    }

    private const int SignatureBytes = 16;

    /// <summary>The formats Skia decodes, by their leading bytes (the content decides, never the file name).</summary>
    private static string? FormatOf(ReadOnlySpan<byte> head) =>
        head.StartsWith([(byte)0x89, (byte)'P', (byte)'N', (byte)'G']) ? "PNG"
        : head.StartsWith([(byte)0xFF, (byte)0xD8, (byte)0xFF]) ? "JPEG"
        : head.StartsWith("GIF87a"u8) || head.StartsWith("GIF89a"u8) ? "GIF"
        : head.StartsWith("BM"u8) ? "BMP"
        : head.StartsWith("RIFF"u8) && head.Length >= 12 && head[8..12].SequenceEqual("WEBP"u8) ? "WebP"
        : head.StartsWith([(byte)0, (byte)0, (byte)1, (byte)0]) || head.StartsWith([(byte)0, (byte)0, (byte)2, (byte)0]) ? "ICO"
        : head.Length >= 12 && head[4..8].SequenceEqual("ftyp"u8) ? "HEIF/AVIF"
        : null;

    private static SKCodec CreateCodec(byte[] bytes, string name)
    {
        if (bytes.Length == 0) throw new DataException(name, "empty file (0 bytes)");
        if (PngSamples.HasSignature(bytes)) PngSamples.CheckPlausible(bytes, name, MaxPixels);
        var stream = new SKMemoryStream(bytes);
        var codec = SKCodec.Create(stream, out var result); // on success the codec owns the stream
        if (codec is null)
        {
            stream.Dispose();
            throw NotAnImage(name, result, bytes.AsSpan(0, Math.Min(bytes.Length, SignatureBytes)));
        }
        if ((long)codec.Info.Width * codec.Info.Height > MaxPixels)
        {
            var size = new ImageSize(codec.Info.Width, codec.Info.Height);
            codec.Dispose();
            throw new DataException(name, $"image is {size}, more than the limit of {MaxPixels} pixels");
        }
        return codec;
    }

    private static DataException NotAnImage(string name, SKCodecResult result, ReadOnlySpan<byte> head) => FormatOf(head) switch
    {
        null => new DataException(name, $"not a readable image: the content is no supported format (PNG, JPEG, GIF, BMP, WebP, ICO; it starts with {Describe(head)})"),
        var format when result == SKCodecResult.IncompleteInput => new DataException(name, $"truncated {format} image (header incomplete)"),
        var format => new DataException(name, $"not a readable image: corrupt {format} header ({result})"),
    };

    /// <summary>The first bytes as hex, with their text when printable ("68 65 6C 6C 6F 'hello'").</summary>
    private static string Describe(ReadOnlySpan<byte> head)
    {
        var first = head[..Math.Min(head.Length, 8)];
        var hex = Convert.ToHexString(first).Chunk(2).Select(c => new string(c));
        bool printable = first.Length > 0 && first.ToArray().All(b => b is >= 0x20 and < 0x7F);
        return string.Join(' ', hex) + (printable ? $" '{System.Text.Encoding.ASCII.GetString(first)}'" : "");
    }

    private static void CheckFile(string path)
    {
        if (!File.Exists(path))
            throw new DataException(path, Directory.Exists(path) ? "is a directory, not an image file" : "file not found");
        var info = new FileInfo(path);
        if (info.LinkTarget is { } target && info.ResolveLinkTarget(returnFinalTarget: true) is not { Exists: true })
            throw new DataException(path, $"file not found: a broken symbolic link (to {target})");
        long length = info.Length;
        if (length == 0) throw new DataException(path, "empty file (0 bytes)");
        if (length > MaxFileBytes) throw new DataException(path, $"file of {length} bytes is larger than the limit of {MaxFileBytes}");
    }

    private static byte[] ReadFile(string path)
    {
        CheckFile(path);
        try { return File.ReadAllBytes(path); }
        catch (IOException e) { throw new DataException(path, $"cannot read file ({e.Message})", e); }
        catch (UnauthorizedAccessException e) { throw new DataException(path, $"cannot read file ({e.Message})", e); }
    }

    private static byte[] ReadStream(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (stream.CanSeek && stream.Length - stream.Position > MaxFileBytes)
            throw new DataException(name, $"stream of {stream.Length - stream.Position} bytes is larger than the limit of {MaxFileBytes}");
        using var buffer = new MemoryStream();
        var chunk = new byte[1 << 16];
        int n;
        while ((n = stream.Read(chunk, 0, chunk.Length)) > 0)
        {
            if (buffer.Length + n > MaxFileBytes) throw new DataException(name, $"stream is larger than the limit of {MaxFileBytes} bytes");
            buffer.Write(chunk, 0, n);
        }
        return buffer.ToArray();
    }

    /// <summary>Writes an RGB image as PNG, atomically (temporary file, then rename).</summary>
    public static void SaveRgbPng(RgbImage image, string path, PngCompression compression = PngCompression.Smallest) =>
        AtomicFile.WriteAllBytes(path, EncodeRgbPng(image, path, compression));

    /// <summary>Encodes an RGB image as PNG bytes; <paramref name="nameForErrors"/> names it in errors.</summary>
    public static byte[] EncodeRgbPng(RgbImage image, string nameForErrors = "image", PngCompression compression = PngCompression.Smallest)
    {
        var rgba = new byte[image.Width * image.Height * 4];
        for (int i = 0, j = 0; j < image.Pixels.Length; i += 4, j += 3)
        {
            rgba[i] = image.Pixels[j];
            rgba[i + 1] = image.Pixels[j + 1];
            rgba[i + 2] = image.Pixels[j + 2];
            rgba[i + 3] = 255;
        }
        return EncodePng(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul), rgba, nameForErrors, compression);
    }

    /// <summary>Writes a mask as an 8-bit grey PNG (0 or 255), atomically.</summary>
    public static void SaveMaskPng(BinaryMask mask, string path, PngCompression compression = PngCompression.Smallest)
    {
        var grey = new byte[mask.Width * mask.Height];
        for (int i = 0; i < grey.Length; i++) grey[i] = mask.Data[i] ? (byte)255 : (byte)0;
        var info = new SKImageInfo(mask.Width, mask.Height, SKColorType.Gray8, SKAlphaType.Opaque);
        AtomicFile.WriteAllBytes(path, EncodePng(info, grey, path, compression));
    }

    private static unsafe byte[] EncodePng(SKImageInfo info, byte[] pixels, string name, PngCompression compression)
    {
        fixed (byte* p = pixels)
        {
            using var pixmap = new SKPixmap(info, (IntPtr)p, info.RowBytes);
            using var data = (compression == PngCompression.Fast
                    ? pixmap.Encode(new SKPngEncoderOptions(SKPngEncoderFilterFlags.Sub, 1))
                    : pixmap.Encode(SKEncodedImageFormat.Png, 100))
                ?? throw new DataException(name, "PNG encoding failed");
            return data.ToArray();
        }
    }
}

/// <summary>PNG encoder effort. <see cref="Fast"/> (Sub filter, zlib level 1) took about a third of the CPU of
/// <see cref="Smallest"/> (Skia's default: all row filters) on synthetic 256² samples, for files about 5 % larger:
/// use it for bulk output such as <c>agvas synth</c>.</summary>
public enum PngCompression
{
    /// <summary>Skia's default: all row filters, the smallest files.</summary>
    Smallest,
    /// <summary>No row filter: several times faster, files about 5 % larger.</summary>
    Fast,
}
