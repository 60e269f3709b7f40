using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace AgVas.Data;

/// <summary>Element types of <c>.npy</c> arrays that we read and write (NumPy <c>descr</c> kind + size).</summary>
public enum NpyType
{
    Bool,
    Int8,
    UInt8,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Int64,
    UInt64,
    Float16,
    Float32,
    Float64,
}

/// <summary>
/// An n-dimensional array as NumPy's <c>.npy</c> format holds it, normalised to little-endian bytes in C (row-major)
/// order. Score maps are <c>[H, W]</c> float32 or float64; <see cref="ToSingle"/> converts any numeric type.
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
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        if (shape.Any(d => d < 0)) throw new ArgumentException($"negative dimension in shape {Npy.FormatShape(shape)}", nameof(shape));
        long expected = checked(Npy.ElementCount(shape) * Npy.ItemSize(type));
        if (data.Length != expected)
            throw new ArgumentException($"shape {Npy.FormatShape(shape)} of {type} needs {expected} bytes, got {data.Length}", nameof(data));
        Type = type;
        Shape = shape.ToArray();
        Data = data;
    }

    /// <summary>Number of elements (the product of the shape).</summary>
    public long Length => Npy.ElementCount(Shape);

    public static NpyArray FromSingle(ReadOnlySpan<float> values, params int[] shape) =>
        new(NpyType.Float32, shape, MemoryMarshal.AsBytes(values).ToArray());

    public static NpyArray FromDouble(ReadOnlySpan<double> values, params int[] shape) =>
        new(NpyType.Float64, shape, MemoryMarshal.AsBytes(values).ToArray());

    public static NpyArray FromBytes(ReadOnlySpan<byte> values, params int[] shape) =>
        new(NpyType.UInt8, shape, values.ToArray());

    public static NpyArray FromBools(ReadOnlySpan<bool> values, params int[] shape) =>
        new(NpyType.Bool, shape, MemoryMarshal.AsBytes(values).ToArray());

    public static NpyArray FromInt32(ReadOnlySpan<int> values, params int[] shape) =>
        new(NpyType.Int32, shape, MemoryMarshal.AsBytes(values).ToArray());

    /// <summary>The elements as float32 (float64 and 64-bit integers are rounded to the nearest float).</summary>
    public float[] ToSingle()
    {
        var result = GC.AllocateUninitializedArray<float>(checked((int)Length));
        Npy.ConvertToSingle(Data, Type, result);
        return result;
    }

    /// <summary>The elements as float64.</summary>
    public double[] ToDouble()
    {
        var result = GC.AllocateUninitializedArray<double>(checked((int)Length));
        if (Type == NpyType.Float64) MemoryMarshal.Cast<byte, double>(Data).CopyTo(result);
        else for (int i = 0; i < result.Length; i++) result[i] = ElementAsDouble(i);
        return result;
    }

    private double ElementAsDouble(int i) => Npy.ElementAsDouble(Data, Type, i);
}

/// <summary>
/// NumPy's <c>.npy</c> file format (format versions 1.0, 2.0 and 3.0), read and written without NumPy.
/// The header is validated strictly: magic, version, the three keys <c>descr</c>/<c>fortran_order</c>/<c>shape</c>
/// and no others, a supported <c>descr</c>, and a data length that matches the shape exactly. Fortran-order arrays
/// are transposed to C order on reading. Every problem is a <see cref="DataException"/> naming the file.
/// </summary>
public static class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    /// <summary>The header (magic to newline) is padded to a multiple of this, as NumPy does since 1.23.</summary>
    private const int HeaderAlignment = 64;

    /// <summary>Reads a <c>.npy</c> file.</summary>
    public static NpyArray Read(string path)
    {
        if (!File.Exists(path)) throw new DataException(path, "file not found");
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            return Read(stream, path);
        }
        catch (IOException e) { throw new DataException(path, $"cannot read: {e.Message}", e); }
        catch (UnauthorizedAccessException e) { throw new DataException(path, $"cannot read: {e.Message}", e); }
    }

    /// <summary>Reads a <c>.npy</c> array from a seekable or unseekable stream; <paramref name="name"/> names it in errors.</summary>
    public static NpyArray Read(Stream stream, string name)
    {
        var header = ReadHeader(stream, name);
        var data = GC.AllocateUninitializedArray<byte>((int)header.DataBytes);
        ReadData(stream, name, header, data);
        if (header.BigEndian) SwapBytes(data, ItemSize(header.Type));
        if (header.Fortran && header.Shape.Length > 1) data = FortranToC(data, header.Shape, ItemSize(header.Type));
        return new NpyArray(header.Type, header.Shape, data);
    }

    /// <summary>
    /// Reads a <c>.npy</c> file as float32 (any numeric dtype converted) and returns its shape and stored element type.
    /// Little-endian float32 in C order, the usual score map, is read straight into the result without a byte copy.
    /// </summary>
    public static float[] ReadSingle(string path, out int[] shape, out NpyType storedType)
    {
        var values = ReadSingle(path, null, out shape, out storedType);
        return values.Length == ElementCount(shape) ? values : values[..(int)ElementCount(shape)];
    }

    /// <summary>
    /// As <see cref="ReadSingle(string, out int[], out NpyType)"/>, into an array rented from <paramref name="pool"/>
    /// (null: allocated) that may be longer than the element count; the caller returns it to the pool. Reading many
    /// maps this way keeps their buffers off the large-object heap, whose collections dominate otherwise.
    /// </summary>
    public static float[] ReadSingle(string path, ArrayPool<float>? pool, out int[] shape, out NpyType storedType)
    {
        if (!File.Exists(path)) throw new DataException(path, "file not found");
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            var header = ReadHeader(stream, path);
            shape = header.Shape;
            storedType = header.Type;
            int count = (int)(header.DataBytes / ItemSize(header.Type));
            var values = pool?.Rent(count) ?? GC.AllocateUninitializedArray<float>(count);
            if (header.Fortran && header.Shape.Length > 1)
            {
                stream.Position = 0;
                Read(stream, path).ToSingle().CopyTo(values, 0);
            }
            else if (header.Type == NpyType.Float32 && !header.BigEndian)
            {
                ReadData(stream, path, header, MemoryMarshal.AsBytes(values.AsSpan(0, count)));
            }
            else
            {
                var raw = ArrayPool<byte>.Shared.Rent((int)header.DataBytes);
                try
                {
                    var bytes = raw.AsSpan(0, (int)header.DataBytes);
                    ReadData(stream, path, header, bytes);
                    if (header.BigEndian) SwapBytes(bytes, ItemSize(header.Type));
                    ConvertToSingle(bytes, header.Type, values.AsSpan(0, count));
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(raw);
                }
            }
            return values;
        }
        catch (IOException e) { throw new DataException(path, $"cannot read: {e.Message}", e); }
        catch (UnauthorizedAccessException e) { throw new DataException(path, $"cannot read: {e.Message}", e); }
    }

    /// <summary>Converts little-endian elements of <paramref name="type"/> to float32.</summary>
    internal static void ConvertToSingle(ReadOnlySpan<byte> data, NpyType type, Span<float> result)
    {
        switch (type)
        {
            case NpyType.Float32: MemoryMarshal.Cast<byte, float>(data).CopyTo(result); break;
            case NpyType.Float64:
                var f64 = MemoryMarshal.Cast<byte, double>(data);
                for (int i = 0; i < result.Length; i++) result[i] = (float)f64[i];
                break;
            default:
                for (int i = 0; i < result.Length; i++) result[i] = (float)ElementAsDouble(data, type, i);
                break;
        }
    }

    internal static double ElementAsDouble(ReadOnlySpan<byte> d, NpyType type, int i) => type switch
    {
        NpyType.Bool => d[i] != 0 ? 1 : 0,
        NpyType.Int8 => (sbyte)d[i],
        NpyType.UInt8 => d[i],
        NpyType.Int16 => MemoryMarshal.Cast<byte, short>(d)[i],
        NpyType.UInt16 => MemoryMarshal.Cast<byte, ushort>(d)[i],
        NpyType.Int32 => MemoryMarshal.Cast<byte, int>(d)[i],
        NpyType.UInt32 => MemoryMarshal.Cast<byte, uint>(d)[i],
        NpyType.Int64 => MemoryMarshal.Cast<byte, long>(d)[i],
        NpyType.UInt64 => MemoryMarshal.Cast<byte, ulong>(d)[i],
        NpyType.Float16 => (double)MemoryMarshal.Cast<byte, Half>(d)[i],
        NpyType.Float32 => MemoryMarshal.Cast<byte, float>(d)[i],
        NpyType.Float64 => MemoryMarshal.Cast<byte, double>(d)[i],
        _ => throw new InvalidOperationException($"unknown element type {type}"),
    };

    private sealed record Header(NpyType Type, bool BigEndian, bool Fortran, int[] Shape, long DataBytes);

    /// <summary>Reads and validates everything up to the data, including the data length when the stream can tell.</summary>
    private static Header ReadHeader(Stream stream, string name)
    {
        Span<byte> prefix = stackalloc byte[8];
        if (ReadFully(stream, prefix) < 8 || !prefix[..6].SequenceEqual(Magic))
            throw new DataException(name, "not a .npy file (bad magic; expected \\x93NUMPY)");
        byte major = prefix[6], minor = prefix[7];
        if (minor != 0 || major is < 1 or > 3)
            throw new DataException(name, $"unsupported .npy format version {major}.{minor} (supported: 1.0, 2.0, 3.0)");
        int lengthBytes = major == 1 ? 2 : 4;
        Span<byte> lengthField = stackalloc byte[4];
        if (ReadFully(stream, lengthField[..lengthBytes]) < lengthBytes) throw new DataException(name, "truncated .npy header");
        long headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(lengthField) : BinaryPrimitives.ReadUInt32LittleEndian(lengthField);
        long headerStart = 8 + lengthBytes;
        if (stream.CanSeek && headerStart + headerLength > stream.Length)
            throw new DataException(name, $"truncated .npy header (header length {headerLength}, file length {stream.Length})");
        if (headerLength > 1 << 24) throw new DataException(name, $"implausible .npy header length {headerLength}");
        var headerBytes = new byte[headerLength];
        if (ReadFully(stream, headerBytes) < headerLength) throw new DataException(name, "truncated .npy header");
        string text;
        try
        {
            text = major == 3
                ? new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(headerBytes)
                : Encoding.Latin1.GetString(headerBytes);
        }
        catch (DecoderFallbackException) { throw new DataException(name, "the .npy header is not valid UTF-8"); }

        var (type, bigEndian, fortran, shape) = ParseHeader(text, name);
        long count = ElementCount(shape, name);
        int itemSize = ItemSize(type);
        long dataBytes = count > long.MaxValue / itemSize ? long.MaxValue : count * itemSize;
        if (stream.CanSeek)
        {
            long available = stream.Length - stream.Position;
            if (available < dataBytes)
                throw new DataException(name, $"truncated .npy data: shape {FormatShape(shape)} of {Descr(type)} needs {dataBytes} bytes, the file has {available}");
            if (available > dataBytes)
                throw new DataException(name, $".npy data length mismatch: shape {FormatShape(shape)} of {Descr(type)} needs {dataBytes} bytes, the file has {available}");
        }
        if (dataBytes > Array.MaxLength) throw new DataException(name, $"array of {dataBytes} bytes is too large");
        return new Header(type, bigEndian, fortran, shape, dataBytes);
    }

    private static void ReadData(Stream stream, string name, Header header, Span<byte> data)
    {
        if (ReadFully(stream, data) < header.DataBytes)
            throw new DataException(name, $"truncated .npy data: shape {FormatShape(header.Shape)} of {Descr(header.Type)} needs {header.DataBytes} bytes");
        if (!stream.CanSeek && stream.ReadByte() >= 0)
            throw new DataException(name, $".npy data length mismatch: trailing bytes after shape {FormatShape(header.Shape)} of {Descr(header.Type)}");
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
        stream.Write(Magic);
        stream.WriteByte((byte)major);
        stream.WriteByte(0);
        Span<byte> length = stackalloc byte[4];
        if (major == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)header.Length);
            stream.Write(length[..2]);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)header.Length);
            stream.Write(length);
        }
        stream.Write(Encoding.Latin1.GetBytes(header));
        stream.Write(array.Data);
    }

    /// <summary>NumPy's <c>descr</c> string for a type, little-endian (e.g. <c>&lt;f4</c>, <c>|u1</c>).</summary>
    public static string Descr(NpyType type) => type switch
    {
        NpyType.Bool => "|b1",
        NpyType.Int8 => "|i1",
        NpyType.UInt8 => "|u1",
        NpyType.Int16 => "<i2",
        NpyType.UInt16 => "<u2",
        NpyType.Int32 => "<i4",
        NpyType.UInt32 => "<u4",
        NpyType.Int64 => "<i8",
        NpyType.UInt64 => "<u8",
        NpyType.Float16 => "<f2",
        NpyType.Float32 => "<f4",
        NpyType.Float64 => "<f8",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    public static int ItemSize(NpyType type) => type switch
    {
        NpyType.Bool or NpyType.Int8 or NpyType.UInt8 => 1,
        NpyType.Int16 or NpyType.UInt16 or NpyType.Float16 => 2,
        NpyType.Int32 or NpyType.UInt32 or NpyType.Float32 => 4,
        NpyType.Int64 or NpyType.UInt64 or NpyType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>A shape as Python writes a tuple: <c>()</c>, <c>(5,)</c>, <c>(3, 4)</c>.</summary>
    public static string FormatShape(IReadOnlyList<int> shape) => shape.Count switch
    {
        0 => "()",
        1 => $"({shape[0]},)",
        _ => "(" + string.Join(", ", shape) + ")",
    };

    internal static long ElementCount(IReadOnlyList<int> shape)
    {
        long n = 1;
        foreach (var d in shape) n = checked(n * d);
        return n;
    }

    private static long ElementCount(int[] shape, string name)
    {
        try { return ElementCount(shape); }
        catch (OverflowException) { throw new DataException(name, $"shape {FormatShape(shape)} is too large"); }
    }

    private static (NpyType Type, bool BigEndian, bool Fortran, int[] Shape) ParseHeader(string header, string name)
    {
        var parser = new HeaderParser(header, name);
        var dict = parser.ParseDict();
        string[] required = ["descr", "fortran_order", "shape"];
        var extra = dict.Keys.Except(required).ToList();
        var missing = required.Except(dict.Keys).ToList();
        if (extra.Count > 0 || missing.Count > 0)
            throw new DataException(name, $"bad .npy header: keys must be exactly descr, fortran_order, shape" +
                (missing.Count > 0 ? $"; missing {string.Join(", ", missing)}" : "") +
                (extra.Count > 0 ? $"; unexpected {string.Join(", ", extra)}" : ""));
        if (dict["descr"] is not string descr)
            throw new DataException(name, "bad .npy header: descr is not a simple type string (structured dtypes are not supported)");
        if (dict["fortran_order"] is not bool fortran) throw new DataException(name, "bad .npy header: fortran_order must be True or False");
        if (dict["shape"] is not int[] shape) throw new DataException(name, "bad .npy header: shape must be a tuple of integers");
        var (type, bigEndian) = ParseDescr(descr, name);
        return (type, bigEndian, fortran, shape);
    }

    private static (NpyType Type, bool BigEndian) ParseDescr(string descr, string name)
    {
        if (descr.Length < 3) throw UnsupportedDescr(descr, name);
        char order = descr[0];
        if (order is not ('<' or '>' or '|' or '=')) throw UnsupportedDescr(descr, name);
        if (!int.TryParse(descr.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out int size)) throw UnsupportedDescr(descr, name);
        NpyType? type = (descr[1], size) switch
        {
            ('b', 1) => NpyType.Bool,
            ('i', 1) => NpyType.Int8,
            ('u', 1) => NpyType.UInt8,
            ('i', 2) => NpyType.Int16,
            ('u', 2) => NpyType.UInt16,
            ('i', 4) => NpyType.Int32,
            ('u', 4) => NpyType.UInt32,
            ('i', 8) => NpyType.Int64,
            ('u', 8) => NpyType.UInt64,
            ('f', 2) => NpyType.Float16,
            ('f', 4) => NpyType.Float32,
            ('f', 8) => NpyType.Float64,
            _ => null,
        };
        if (type is null) throw UnsupportedDescr(descr, name);
        bool bigEndian = order == '>' && size > 1 || order == '=' && !BitConverter.IsLittleEndian && size > 1;
        return (type.Value, bigEndian);
    }

    private static DataException UnsupportedDescr(string descr, string name) =>
        new(name, $"unsupported .npy dtype '{descr}' (supported: bool, int8-64, uint8-64, float16/32/64)");

    private static void SwapBytes(Span<byte> data, int itemSize)
    {
        if (itemSize == 1) return;
        for (int i = 0; i < data.Length; i += itemSize) data.Slice(i, itemSize).Reverse();
    }

    /// <summary>Fortran order is C order of the reversed shape: transpose back by walking the C-order index.</summary>
    private static byte[] FortranToC(byte[] data, int[] shape, int itemSize)
    {
        int rank = shape.Length;
        var fortranStride = new long[rank];
        long stride = 1;
        for (int k = 0; k < rank; k++) { fortranStride[k] = stride; stride *= shape[k]; }
        var result = GC.AllocateUninitializedArray<byte>(data.Length);
        var index = new int[rank];
        long count = data.Length / itemSize;
        long source = 0;
        for (long c = 0; c < count; c++)
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

    private static int ReadFully(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    /// <summary>Parses the Python dict literal of a .npy header: string keys, values str / bool / tuple of ints.</summary>
    private ref struct HeaderParser(string text, string name)
    {
        private int _pos;

        public Dictionary<string, object> ParseDict()
        {
            var dict = new Dictionary<string, object>(StringComparer.Ordinal);
            SkipSpace();
            Expect('{');
            while (true)
            {
                SkipSpace();
                if (Peek() == '}') { _pos++; break; }
                string key = ParseString();
                SkipSpace();
                Expect(':');
                SkipSpace();
                if (!dict.TryAdd(key, ParseValue())) throw Bad($"duplicate key '{key}'");
                SkipSpace();
                if (Peek() == ',') { _pos++; continue; }
                Expect('}');
                break;
            }
            SkipSpace();
            if (_pos != text.Length) throw Bad("unexpected text after the header dictionary");
            if (!text.EndsWith('\n')) throw Bad("header does not end with a newline");
            return dict;
        }

        private object ParseValue()
        {
            char c = Peek();
            if (c is '\'' or '"') return ParseString();
            if (c == '(') return ParseTuple();
            if (Match("True")) return true;
            if (Match("False")) return false;
            throw Bad($"unexpected value at offset {_pos}");
        }

        private int[] ParseTuple()
        {
            Expect('(');
            var items = new List<int>();
            while (true)
            {
                SkipSpace();
                if (Peek() == ')') { _pos++; break; }
                int start = _pos;
                while (_pos < text.Length && char.IsAsciiDigit(text[_pos])) _pos++;
                if (start == _pos) throw Bad($"shape holds a non-integer at offset {start}");
                if (!int.TryParse(text.AsSpan(start, _pos - start), NumberStyles.None, CultureInfo.InvariantCulture, out int value))
                    throw Bad("shape dimension too large");
                if (Peek() == 'L') _pos++; // Python 2 long literal
                items.Add(value);
                SkipSpace();
                if (Peek() == ',') { _pos++; continue; }
                Expect(')');
                break;
            }
            return items.ToArray();
        }

        private string ParseString()
        {
            char quote = Peek();
            if (quote is not ('\'' or '"')) throw Bad($"expected a quoted string at offset {_pos}");
            int end = text.IndexOf(quote, _pos + 1);
            if (end < 0) throw Bad("unterminated string");
            string s = text.Substring(_pos + 1, end - _pos - 1);
            if (s.Contains('\\')) throw Bad("escape sequences are not supported in header strings");
            _pos = end + 1;
            return s;
        }

        private bool Match(string word)
        {
            if (string.CompareOrdinal(text, _pos, word, 0, word.Length) != 0) return false;
            _pos += word.Length;
            return true;
        }

        private void Expect(char c)
        {
            if (Peek() != c) throw Bad($"expected '{c}' at offset {_pos}");
            _pos++;
        }

        private readonly char Peek() => _pos < text.Length ? text[_pos] : '\0';

        private void SkipSpace()
        {
            while (_pos < text.Length && text[_pos] is ' ' or '\t' or '\n' or '\r') _pos++;
        }

        private readonly DataException Bad(string problem) => new(name, $"bad .npy header: {problem}");
    }
}
