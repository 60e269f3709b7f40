using System.Buffers.Binary;
using System.IO.Compression;

namespace AgVas.Data;

/// <summary>
/// The stored samples of a PNG file, unpacked to one <see cref="ushort"/> per channel at the file's own bit depth.
/// Masks need what SkiaSharp does not give: the 16-bit value of a 16-bit mask (1/65535 is foreground) and the raw
/// palette index of a palette mask (VisA stores class ids whose palette colour may be black).
/// </summary>
internal sealed class PngSamples
{
    private static ReadOnlySpan<byte> Signature => [137, 80, 78, 71, 13, 10, 26, 10];

    public int Width { get; }
    public int Height { get; }
    public int BitDepth { get; }
    /// <summary>PNG colour type: 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA.</summary>
    public int ColorType { get; }
    public int Channels { get; }
    /// <summary>[H, W, Channels] samples (palette images: the index).</summary>
    public ushort[] Samples { get; }
    /// <summary>Palette entries as RGB triples; empty unless <see cref="ColorType"/> is 3.</summary>
    public byte[] Palette { get; }

    private PngSamples(int width, int height, int bitDepth, int colorType, ushort[] samples, byte[] palette)
    {
        Width = width;
        Height = height;
        BitDepth = bitDepth;
        ColorType = colorType;
        Channels = ChannelCount(colorType);
        Samples = samples;
        Palette = palette;
    }

    public static bool HasSignature(ReadOnlySpan<byte> file) => file.StartsWith(Signature);

    /// <summary>Decodes <paramref name="file"/> (a whole PNG file); <paramref name="name"/> is used in errors.</summary>
    public static PngSamples Decode(byte[] file, string name, long maxPixels)
    {
        if (!HasSignature(file)) throw new DataException(name, "not a PNG file (bad signature)");
        int pos = Signature.Length;
        int width = 0, height = 0, bitDepth = 0, colorType = -1, interlace = 0;
        byte[] palette = [];
        using var idat = new MemoryStream();
        bool sawHeader = false, sawEnd = false;
        while (pos + 8 <= file.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(pos));
            string type = System.Text.Encoding.ASCII.GetString(file, pos + 4, 4);
            if (length < 0 || (long)pos + 12 + length > file.Length)
                throw new DataException(name, $"truncated PNG (chunk {type} at byte {pos} runs past the end of the file)");
            var data = file.AsSpan(pos + 8, length);
            pos += 12 + length;
            switch (type)
            {
                case "IHDR":
                    if (length != 13) throw new DataException(name, $"corrupt PNG (IHDR of {length} bytes)");
                    width = BinaryPrimitives.ReadInt32BigEndian(data);
                    height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                    bitDepth = data[8];
                    colorType = data[9];
                    interlace = data[12];
                    ValidateHeader(name, width, height, bitDepth, colorType, interlace, maxPixels);
                    sawHeader = true;
                    break;
                case "PLTE":
                    if (length % 3 != 0 || length == 0) throw new DataException(name, $"corrupt PNG (PLTE of {length} bytes)");
                    palette = data.ToArray();
                    break;
                case "IDAT":
                    if (!sawHeader) throw new DataException(name, "corrupt PNG (IDAT before IHDR)");
                    idat.Write(data);
                    break;
                case "IEND":
                    sawEnd = true;
                    break;
            }
            if (sawEnd) break;
        }
        if (!sawHeader) throw new DataException(name, "truncated PNG (no IHDR chunk)");
        if (!sawEnd) throw new DataException(name, "truncated PNG (no IEND chunk)");
        if (colorType == 3 && palette.Length == 0) throw new DataException(name, "corrupt PNG (palette image without PLTE)");

        int channels = ChannelCount(colorType);
        int bitsPerPixel = channels * bitDepth;
        CheckDataSize(name, width, height, bitsPerPixel, idat.Length);
        var samples = new ushort[checked(width * height * channels)];
        idat.Position = 0;
        using var inflater = new ZLibStream(idat, CompressionMode.Decompress);
        try
        {
            if (interlace == 0)
                DecodePass(inflater, name, samples, width, width, height, channels, bitDepth, bitsPerPixel, 0, 0, 1, 1);
            else
                foreach (var (x0, y0, dx, dy) in Adam7)
                {
                    int passWidth = (width - x0 + dx - 1) / dx, passHeight = (height - y0 + dy - 1) / dy;
                    if (passWidth > 0 && passHeight > 0)
                        DecodePass(inflater, name, samples, width, passWidth, passHeight, channels, bitDepth, bitsPerPixel, x0, y0, dx, dy);
                }
        }
        catch (InvalidDataException e)
        {
            throw new DataException(name, $"corrupt PNG (compressed image data: {e.Message})", e);
        }
        if (colorType == 3)
        {
            int entries = palette.Length / 3;
            foreach (var index in samples)
                if (index >= entries) throw new DataException(name, $"corrupt PNG (palette index {index} but only {entries} entries)");
        }
        return new PngSamples(width, height, bitDepth, colorType, samples, palette);
    }

    /// <summary>
    /// Refuses a PNG whose header promises far more pixels than its compressed data can hold, before anyone
    /// allocates the image (for decoders such as SkiaSharp's that would allocate first and fail later).
    /// </summary>
    public static void CheckPlausible(byte[] file, string name, long maxPixels)
    {
        int pos = Signature.Length, width = 0, height = 0, bitsPerPixel = 0;
        long idatBytes = 0;
        while (pos + 8 <= file.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(pos));
            if (length < 0) break;
            var type = file.AsSpan(pos + 4, 4);
            if (type.SequenceEqual("IHDR"u8) && length == 13 && pos + 8 + 13 <= file.Length)
            {
                width = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(pos + 8));
                height = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(pos + 12));
                bitsPerPixel = file[pos + 16] * ChannelCount(file[pos + 17]);
            }
            else if (type.SequenceEqual("IDAT"u8)) idatBytes += Math.Min(length, file.Length - pos - 8);
            else if (type.SequenceEqual("IEND"u8)) break;
            pos = (int)Math.Min(file.Length, (long)pos + 12 + length);
        }
        if (width <= 0 || height <= 0 || bitsPerPixel <= 0) return; // malformed headers are the decoder's to report
        if ((long)width * height > maxPixels)
            throw new DataException(name, $"image is {width}x{height}, more than the limit of {maxPixels} pixels");
        CheckDataSize(name, width, height, bitsPerPixel, idatBytes);
    }

    /// <summary>Deflate expands at most ~1032:1: a header promising more raw data than that is a truncated or lying file.</summary>
    private static void CheckDataSize(string name, int width, int height, int bitsPerPixel, long idatBytes)
    {
        long rawBytes = (long)height * ((width * (long)bitsPerPixel + 7) / 8 + 1);
        if (rawBytes > idatBytes * 1032L + 1024)
            throw new DataException(name, $"truncated PNG ({idatBytes} bytes of image data cannot hold a {width}x{height} image)");
    }

    private static readonly (int X0, int Y0, int Dx, int Dy)[] Adam7 =
        [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];

    /// <summary>Reads, unfilters and scatters one (sub-)image of <paramref name="passWidth"/> x <paramref name="passHeight"/>.</summary>
    private static void DecodePass(Stream inflater, string name, ushort[] samples, int imageWidth, int passWidth, int passHeight,
        int channels, int bitDepth, int bitsPerPixel, int x0, int y0, int dx, int dy)
    {
        int rowBytes = (passWidth * bitsPerPixel + 7) / 8;
        int bpp = Math.Max(1, bitsPerPixel / 8);
        var raw = new byte[checked((long)passHeight * (rowBytes + 1))];
        ReadExactly(inflater, raw, name);
        var zero = new byte[rowBytes];
        int rowSamples = passWidth * channels;
        for (int row = 0; row < passHeight; row++)
        {
            int start = row * (rowBytes + 1);
            var current = raw.AsSpan(start + 1, rowBytes);
            ReadOnlySpan<byte> previous = row == 0 ? zero : raw.AsSpan(start - rowBytes, rowBytes);
            Unfilter(raw[start], current, previous, bpp, name);
            int y = y0 + row * dy;
            if (dx == 1)
            {
                var target = samples.AsSpan(y * imageWidth * channels, rowSamples);
                if (bitDepth == 8)
                    for (int i = 0; i < rowSamples; i++) target[i] = current[i];
                else
                    for (int i = 0; i < rowSamples; i++) target[i] = ReadSample(current, i, bitDepth);
                continue;
            }
            for (int col = 0; col < passWidth; col++)
            {
                int target = (y * imageWidth + x0 + col * dx) * channels;
                for (int c = 0; c < channels; c++)
                    samples[target + c] = ReadSample(current, col * channels + c, bitDepth);
            }
        }
    }

    private static ushort ReadSample(ReadOnlySpan<byte> row, int sampleIndex, int bitDepth)
    {
        switch (bitDepth)
        {
            case 8: return row[sampleIndex];
            case 16: return (ushort)(row[2 * sampleIndex] << 8 | row[2 * sampleIndex + 1]);
            default:
                int bit = sampleIndex * bitDepth;
                int shift = 8 - bitDepth - bit % 8;
                return (ushort)((row[bit / 8] >> shift) & ((1 << bitDepth) - 1));
        }
    }

    private static void ReadExactly(Stream stream, byte[] buffer, string name)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = stream.Read(buffer, read, buffer.Length - read);
            if (n == 0) throw new DataException(name, "truncated PNG (image data ends early)");
            read += n;
        }
    }

    private static void Unfilter(byte filter, Span<byte> row, ReadOnlySpan<byte> prior, int bpp, string name)
    {
        switch (filter)
        {
            case 0: break;
            case 1: for (int i = bpp; i < row.Length; i++) row[i] += row[i - bpp]; break;
            case 2: for (int i = 0; i < row.Length; i++) row[i] += prior[i]; break;
            case 3:
                for (int i = 0; i < row.Length; i++)
                    row[i] += (byte)(((i >= bpp ? row[i - bpp] : 0) + prior[i]) / 2);
                break;
            case 4:
                for (int i = 0; i < row.Length; i++)
                    row[i] += Paeth(i >= bpp ? row[i - bpp] : (byte)0, prior[i], i >= bpp ? prior[i - bpp] : (byte)0);
                break;
            default: throw new DataException(name, $"corrupt PNG (unknown row filter {filter})");
        }
    }

    private static byte Paeth(byte a, byte b, byte c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static int ChannelCount(int colorType) => colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => 0 };

    private static void ValidateHeader(string name, int width, int height, int bitDepth, int colorType, int interlace, long maxPixels)
    {
        if (width <= 0 || height <= 0) throw new DataException(name, $"corrupt PNG (size {width}x{height})");
        if ((long)width * height > maxPixels)
            throw new DataException(name, $"image is {width}x{height}, more than the limit of {maxPixels} pixels");
        bool depthOk = colorType switch
        {
            0 => bitDepth is 1 or 2 or 4 or 8 or 16,
            3 => bitDepth is 1 or 2 or 4 or 8,
            2 or 4 or 6 => bitDepth is 8 or 16,
            _ => false,
        };
        if (!depthOk) throw new DataException(name, $"corrupt PNG (colour type {colorType} with bit depth {bitDepth})");
        if (interlace > 1) throw new DataException(name, $"corrupt PNG (interlace method {interlace})");
    }
}
