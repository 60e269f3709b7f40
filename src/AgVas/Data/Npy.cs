using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace AgVas.Data;

/// <summary>Element types of <c>.npy</c> arrays that we read and write: score maps are float16/32/64; bool and uint8 are
/// read so that a mask saved as a map is reported as such.</summary>
public enum NpyType
{
    Bool,
    UInt8,
    Float16,
    Float32,
    Float64,
}

/// <summary>
/// An n-dimensional array as NumPy's <c>.npy</c> format holds it, normalised to little-endian bytes in C (row-major)
/// order. Score maps are <c>[H, W]</c> float32 or float64; <see cref="ToSingle"/> converts any supported type.
/// </summary>
public sealed class NpyArray
{
    public NpyType Type { get; }
    /// <summary>The dimensions, outermost first (C order); empty for a 0-d array.</summary>
    public IReadOnlyList<int> Shape { get; }
    /// <summary>The elements, little-endian, C order.</summary>
    public byte[] Data { get; }

    public NpyArray(NpyType type, IReadOnlyList<int> shape, byte[] data)
    {
        if (shape.Any(d => d < 0)) throw new ArgumentException($"negative dimension in shape {Npy.FormatShape(shape)}", nameof(shape));
        long expected = checked(Npy.ElementCount(shape) * Npy.ItemSize(type));
        if (data.Length != expected)
            throw new ArgumentException($"shape {Npy.FormatShape(shape)} of {type} needs {expected} bytes, got {data.Length}", nameof(data));
        (Type, Shape, Data) = (type, shape.ToArray(), data);
    }

    /// <summary>Number of elements (the product of the shape).</summary>
    public long Length => Npy.ElementCount(Shape);

    public static NpyArray FromSingle(ReadOnlySpan<float> values, params int[] shape) => new(NpyType.Float32, shape, MemoryMarshal.AsBytes(values).ToArray());
    public static NpyArray FromDouble(ReadOnlySpan<double> values, params int[] shape) => new(NpyType.Float64, shape, MemoryMarshal.AsBytes(values).ToArray());
    public static NpyArray FromBytes(ReadOnlySpan<byte> values, params int[] shape) => new(NpyType.UInt8, shape, values.ToArray());
    public static NpyArray FromBools(ReadOnlySpan<bool> values, params int[] shape) => new(NpyType.Bool, shape, MemoryMarshal.AsBytes(values).ToArray());

    /// <summary>The elements as float32 (float64 rounded to the nearest float).</summary>
    public float[] ToSingle()
    {
        if (Type == NpyType.Float32) return MemoryMarshal.Cast<byte, float>(Data).ToArray();
        var result = GC.AllocateUninitializedArray<float>(checked((int)Length));
        for (int i = 0; i < result.Length; i++) result[i] = (float)Element(i);
        return result;
    }

    /// <summary>The elements as float64.</summary>
    public double[] ToDouble()
    {
        var result = GC.AllocateUninitializedArray<double>(checked((int)Length));
        for (int i = 0; i < result.Length; i++) result[i] = Element(i);
        return result;
    }

    private double Element(int i) => Type switch
    {
        NpyType.Bool => Data[i] != 0 ? 1 : 0,
        NpyType.UInt8 => Data[i],
        NpyType.Float16 => (double)MemoryMarshal.Cast<byte, Half>(Data)[i],
        NpyType.Float32 => MemoryMarshal.Cast<byte, float>(Data)[i],
        _ => MemoryMarshal.Cast<byte, double>(Data)[i],
    };
}

/// <summary>
/// NumPy's <c>.npy</c> file format (versions 1.0, 2.0 and 3.0), read and written without NumPy. The header is checked
/// strictly: magic, version, exactly the keys <c>descr</c>/<c>fortran_order</c>/<c>shape</c>, a supported <c>descr</c>,
/// and a data length that matches the shape. Big-endian data is swapped and Fortran-order arrays are transposed to C
/// order on reading. Every problem is a <see cref="DataException"/> naming the file.
/// </summary>
public static partial class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    /// <summary>The header (magic to newline) is padded to a multiple of this, as NumPy does since 1.23.</summary>
    private const int HeaderAlignment = 64;
    private static readonly (NpyType Type, string Descr)[] Types =
        [(NpyType.Bool, "|b1"), (NpyType.UInt8, "|u1"), (NpyType.Float16, "<f2"), (NpyType.Float32, "<f4"), (NpyType.Float64, "<f8")];

    /// <summary>NumPy's <c>descr</c> string for a type, little-endian (e.g. <c>&lt;f4</c>, <c>|u1</c>).</summary>
    public static string Descr(NpyType type) => Types.First(t => t.Type == type).Descr;
    public static int ItemSize(NpyType type) => Descr(type)[2] - '0';

    /// <summary>Reads a <c>.npy</c> file.</summary>
    public static NpyArray Read(string path) => WithFile(path, s => Read(s, path));

    /// <summary>Reads a <c>.npy</c> array from a seekable or unseekable stream; <paramref name="name"/> names it in errors.</summary>
    public static NpyArray Read(Stream stream, string name)
    {
        var header = ReadHeader(stream, name);
        var data = GC.AllocateUninitializedArray<byte>((int)header.DataBytes);
        ReadData(stream, name, header, data);
        int size = ItemSize(header.Type);
        if (header.BigEndian && size > 1) for (int i = 0; i < data.Length; i += size) data.AsSpan(i, size).Reverse();
        if (header.Fortran && header.Shape.Length > 1) data = FortranToC(data, header.Shape, size);
        return new NpyArray(header.Type, header.Shape, data);
    }

    /// <summary>Reads a <c>.npy</c> file as float32 and returns its shape and stored element type.</summary>
    public static float[] ReadSingle(string path, out int[] shape, out NpyType storedType) => ReadSingle(path, null, out shape, out storedType);

    /// <summary>
    /// As <see cref="ReadSingle(string, out int[], out NpyType)"/>, into an array rented from <paramref name="pool"/>
    /// (null: allocated) that may be longer than the element count; the caller returns it to the pool. Little-endian
    /// float32 in C order, the usual score map, is read straight into it, which keeps many maps off the large-object heap.
    /// </summary>
    public static float[] ReadSingle(string path, ArrayPool<float>? pool, out int[] shape, out NpyType storedType)
    {
        (var values, shape, storedType) = WithFile(path, stream =>
        {
            var header = ReadHeader(stream, path);
            int count = (int)ElementCount(header.Shape);
            var values = pool?.Rent(count) ?? GC.AllocateUninitializedArray<float>(count);
            if (header.Type == NpyType.Float32 && !header.BigEndian && !(header.Fortran && header.Shape.Length > 1))
                ReadData(stream, path, header, MemoryMarshal.AsBytes(values.AsSpan(0, count)));
            else
            {
                stream.Position = 0;
                Read(stream, path).ToSingle().CopyTo(values, 0);
            }
            return (values, header.Shape, header.Type);
        });
        return values;
    }

    private static T WithFile<T>(string path, Func<Stream, T> read)
    {
        if (!File.Exists(path)) throw new DataException(path, "file not found");
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            return read(stream);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new DataException(path, $"cannot read: {e.Message}", e); }
    }

    private sealed record Header(NpyType Type, bool BigEndian, bool Fortran, int[] Shape, long DataBytes);

    /// <summary>Reads and validates everything up to the data, including the data length when the stream can tell.</summary>
    private static Header ReadHeader(Stream stream, string name)
    {
        Span<byte> prefix = stackalloc byte[12];
        if (stream.ReadAtLeast(prefix[..8], 8, throwOnEndOfStream: false) < 8 || !prefix[..6].SequenceEqual(Magic))
            throw new DataException(name, "not a .npy file (bad magic; expected \\x93NUMPY)");
        byte major = prefix[6], minor = prefix[7];
        if (minor != 0 || major is < 1 or > 3)
            throw new DataException(name, $"unsupported .npy format version {major}.{minor} (supported: 1.0, 2.0, 3.0)");
        int lengthBytes = major == 1 ? 2 : 4;
        if (stream.ReadAtLeast(prefix[8..(8 + lengthBytes)], lengthBytes, throwOnEndOfStream: false) < lengthBytes)
            throw new DataException(name, "truncated .npy header");
        long headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..]) : BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
        if (stream.CanSeek && 8 + lengthBytes + headerLength > stream.Length)
            throw new DataException(name, $"truncated .npy header (header length {headerLength}, file length {stream.Length})");
        if (headerLength > 1 << 24) throw new DataException(name, $"implausible .npy header length {headerLength}");
        var headerBytes = new byte[headerLength];
        if (stream.ReadAtLeast(headerBytes, headerBytes.Length, throwOnEndOfStream: false) < headerLength) throw new DataException(name, "truncated .npy header");
        string text;
        try { text = major == 3 ? new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(headerBytes) : Encoding.Latin1.GetString(headerBytes); }
        catch (DecoderFallbackException) { throw new DataException(name, "the .npy header is not valid UTF-8"); }

        var (type, bigEndian, fortran, shape) = ParseHeader(text, name);
        long count;
        try { count = ElementCount(shape); }
        catch (OverflowException) { throw new DataException(name, $"shape {FormatShape(shape)} is too large"); }
        long dataBytes = count > long.MaxValue / ItemSize(type) ? long.MaxValue : count * ItemSize(type);
        if (stream.CanSeek && stream.Length - stream.Position != dataBytes)
            throw new DataException(name, (stream.Length - stream.Position < dataBytes ? "truncated .npy data" : ".npy data length mismatch") +
                $": shape {FormatShape(shape)} of {Descr(type)} needs {dataBytes} bytes, the file has {stream.Length - stream.Position}");
        if (dataBytes > Array.MaxLength) throw new DataException(name, $"array of {dataBytes} bytes is too large");
        return new Header(type, bigEndian, fortran, shape, dataBytes);
    }

    private static void ReadData(Stream stream, string name, Header header, Span<byte> data)
    {
        if (stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false) < header.DataBytes)
            throw new DataException(name, $"truncated .npy data: shape {FormatShape(header.Shape)} of {Descr(header.Type)} needs {header.DataBytes} bytes");
        if (!stream.CanSeek && stream.ReadByte() >= 0)
            throw new DataException(name, $".npy data length mismatch: trailing bytes after shape {FormatShape(header.Shape)} of {Descr(header.Type)}");
    }

    [GeneratedRegex(@"(?<=[{,]\s*)'(\w+)'\s*:")] private static partial Regex HeaderKey();
    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")] private static partial Regex DescrValue();
    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)\b")] private static partial Regex FortranValue();
    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")] private static partial Regex ShapeValue();

    /// <summary>Parses the Python dict literal of a header: <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (3, 4), }</c>.</summary>
    private static (NpyType Type, bool BigEndian, bool Fortran, int[] Shape) ParseHeader(string text, string name)
    {
        DataException Bad(string problem) => new(name, $"bad .npy header: {problem}");
        var trimmed = text.Trim();
        if (!trimmed.StartsWith('{') || !trimmed.EndsWith('}') || !text.EndsWith('\n')) throw Bad("not a dictionary ending with a newline");
        string[] required = ["descr", "fortran_order", "shape"];
        var keys = HeaderKey().Matches(text).Select(m => m.Groups[1].Value).ToList();
        var missing = required.Except(keys).ToList();
        if (keys.Count != required.Length || missing.Count > 0)
            throw Bad("keys must be exactly descr, fortran_order, shape" + (missing.Count > 0 ? $"; missing {string.Join(", ", missing)}" : ""));
        var descr = DescrValue().Match(text);
        if (!descr.Success) throw Bad("descr is not a simple type string (structured dtypes are not supported)");
        var fortran = FortranValue().Match(text);
        if (!fortran.Success) throw Bad("fortran_order must be True or False");
        var shapeText = ShapeValue().Match(text);
        if (!shapeText.Success) throw Bad("shape must be a tuple of integers");
        var shape = new List<int>();
        foreach (var item in shapeText.Groups[1].Value.Split(',').Select(s => s.Trim().TrimEnd('L')).Where(s => s.Length > 0))
            shape.Add(int.TryParse(item, NumberStyles.None, CultureInfo.InvariantCulture, out int d) ? d
                : throw Bad(item.All(char.IsAsciiDigit) ? "shape dimension too large" : $"shape holds a non-integer '{item}'"));
        var d0 = descr.Groups[1].Value;
        var type = d0.Length == 3 && d0[0] is '<' or '>' or '|' or '=' ? Types.FirstOrDefault(t => t.Descr[1..] == d0[1..]) : default;
        if (type.Descr is null) throw new DataException(name, $"unsupported .npy dtype '{d0}' (supported: bool, uint8, float16/32/64)");
        return (type.Type, d0[0] == '>', fortran.Groups[1].Value == "True", [.. shape]);
    }

    /// <summary>Fortran order is C order of the reversed shape: transpose back by walking the C-order index.</summary>
    private static byte[] FortranToC(byte[] data, int[] shape, int itemSize)
    {
        int rank = shape.Length;
        var fortranStride = new long[rank];
        for (int k = 0, stride = 1; k < rank; stride *= shape[k], k++) fortranStride[k] = stride;
        var result = GC.AllocateUninitializedArray<byte>(data.Length);
        var index = new int[rank];
        long source = 0;
        for (long c = 0; c < data.Length / itemSize; c++)
        {
            Buffer.BlockCopy(data, (int)(source * itemSize), result, (int)(c * itemSize), itemSize);
            for (int k = rank - 1; k >= 0; k--)
            {
                index[k]++;
                source += fortranStride[k];
                if (index[k] < shape[k]) break;
                source -= fortranStride[k] * index[k];
                index[k] = 0;
            }
        }
        return result;
    }

    /// <summary>Writes an array as <c>.npy</c> (version 1.0, or 2.0 when the header needs it), atomically.</summary>
    public static void Write(string path, NpyArray array) => AtomicFile.Write(path, s => Write(s, array));

    /// <summary>Writes an array as <c>.npy</c> to a stream.</summary>
    public static void Write(Stream stream, NpyArray array)
    {
        string dict = $"{{'descr': '{Descr(array.Type)}', 'fortran_order': False, 'shape': {FormatShape(array.Shape)}, }}";
        // Version 1.0 stores the header length in 16 bits; larger headers need 2.0 (NumPy's rule).
        int major = 8 + 2 + dict.Length + 1 > ushort.MaxValue ? 2 : 1;
        int prefix = major == 1 ? 10 : 12;
        int padded = (prefix + dict.Length + 1 + HeaderAlignment - 1) / HeaderAlignment * HeaderAlignment;
        string header = dict + new string(' ', padded - prefix - dict.Length - 1) + "\n";
        Span<byte> start = stackalloc byte[12];
        Magic.CopyTo(start);
        (start[6], start[7]) = ((byte)major, 0);
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(start[8..], (ushort)header.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(start[8..], (uint)header.Length);
        stream.Write(start[..prefix]);
        stream.Write(Encoding.Latin1.GetBytes(header));
        stream.Write(array.Data);
    }

    /// <summary>A shape as Python writes a tuple: <c>()</c>, <c>(5,)</c>, <c>(3, 4)</c>.</summary>
    public static string FormatShape(IReadOnlyList<int> shape) => shape.Count == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape) + ")";

    internal static long ElementCount(IReadOnlyList<int> shape)
    {
        long n = 1;
        foreach (var d in shape) n = checked(n * d);
        return n;
    }
}
