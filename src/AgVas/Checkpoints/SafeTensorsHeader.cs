using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace AgVas.Checkpoints;

/// <summary>Reads, validates and writes the safetensors header: an 8-byte little-endian length N, then N bytes of
/// UTF-8 JSON mapping tensor names to {dtype, shape, data_offsets} plus an optional "__metadata__" string map.</summary>
/// <remarks>Validation follows the reference implementation (huggingface/safetensors, tensor.rs): a 100 MB header cap,
/// UTF-8, a JSON object, data regions that tile the data section from byte 0 to the end of the file with no hole,
/// overlap or trailing byte, and byte lengths equal to shape × dtype size. We are stricter in also rejecting
/// duplicate names (serde keeps the last) and duplicate fields.</remarks>
internal static class SafeTensorsHeader
{
    /// <summary>The reference implementation's cap on the header length.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public const string MetadataKey = "__metadata__";

    internal sealed record Parsed(Dictionary<string, SafeTensorsEntry> Entries, Dictionary<string, string> Metadata, long DataStart);

    public static Parsed Read(SafeFileHandle handle, string path)
    {
        long fileLength = RandomAccess.GetLength(handle);
        if (fileLength < 8)
            throw new CheckpointException(path, $"file is {fileLength} bytes, too short for the 8-byte header length (truncated or not a safetensors file)");
        Span<byte> prefix = stackalloc byte[8];
        ReadExactly(handle, path, prefix, 0);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > MaxHeaderBytes)
            throw new CheckpointException(path, $"header length {n} bytes exceeds the {MaxHeaderBytes}-byte cap (corrupt or not a safetensors file)");
        if ((long)n > fileLength - 8)
            throw new CheckpointException(path, $"header length {n} bytes exceeds the {fileLength - 8} bytes after the length prefix (truncated file)");
        if (n == 0) throw new CheckpointException(path, "header is empty (a JSON object is required)");

        var bytes = new byte[n];
        ReadExactly(handle, path, bytes, 8);
        if (!System.Text.Unicode.Utf8.IsValid(bytes)) throw new CheckpointException(path, "header is not valid UTF-8");

        JsonDocument doc;
        try { doc = JsonDocument.Parse(bytes); }
        catch (JsonException e) { throw new CheckpointException(path, $"header is not valid JSON: {OneLine(e.Message)}", e); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new CheckpointException(path, $"header is a JSON {root.ValueKind.ToString().ToLowerInvariant()}, not an object");

            var entries = new Dictionary<string, SafeTensorsEntry>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            bool sawMetadata = false;
            foreach (var property in root.EnumerateObject())
            {
                if (property.Name == MetadataKey)
                {
                    if (sawMetadata) throw new CheckpointException(path, $"duplicate \"{MetadataKey}\" in header");
                    sawMetadata = true;
                    ReadMetadata(property.Value, metadata, path);
                    continue;
                }
                if (entries.ContainsKey(property.Name))
                    throw new CheckpointException(path, $"duplicate tensor name '{property.Name}' in header");
                entries.Add(property.Name, ReadEntry(property.Name, property.Value, path));
            }

            long dataLength = fileLength - 8 - (long)n;
            ValidateLayout(entries.Values, dataLength, path);
            return new Parsed(entries, metadata, 8 + (long)n);
        }
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string path)
    {
        if (value.ValueKind == JsonValueKind.Null) return;
        if (value.ValueKind != JsonValueKind.Object)
            throw new CheckpointException(path, $"\"{MetadataKey}\" is a JSON {value.ValueKind.ToString().ToLowerInvariant()}, not an object of strings");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new CheckpointException(path, $"\"{MetadataKey}\" value of '{item.Name}' is a JSON {item.Value.ValueKind.ToString().ToLowerInvariant()}, not a string");
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
                throw new CheckpointException(path, $"duplicate key '{item.Name}' in \"{MetadataKey}\"");
        }
    }

    private static SafeTensorsEntry ReadEntry(string name, JsonElement value, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new CheckpointException(path, $"tensor '{name}': entry is a JSON {value.ValueKind.ToString().ToLowerInvariant()}, not an object");
        JsonElement? dtypeElement = null, shapeElement = null, offsetsElement = null;
        foreach (var field in value.EnumerateObject())
        {
            // Unknown fields are ignored, as the reference implementation does.
            ref JsonElement? slot = ref dtypeElement;
            if (field.Name == "dtype") slot = ref dtypeElement;
            else if (field.Name == "shape") slot = ref shapeElement;
            else if (field.Name == "data_offsets") slot = ref offsetsElement;
            else continue;
            if (slot is not null) throw new CheckpointException(path, $"tensor '{name}': duplicate field \"{field.Name}\"");
            slot = field.Value;
        }

        if (dtypeElement is not { } d) throw new CheckpointException(path, $"tensor '{name}': missing \"dtype\"");
        if (d.ValueKind != JsonValueKind.String) throw new CheckpointException(path, $"tensor '{name}': \"dtype\" is not a string");
        var dtype = SafeTensorsDtypes.TryParse(d.GetString()!, out var dtypeProblem)
            ?? throw new CheckpointException(path, $"tensor '{name}': {dtypeProblem}");

        if (shapeElement is not { } s) throw new CheckpointException(path, $"tensor '{name}': missing \"shape\"");
        var shape = ReadNonNegativeIntegers(s, name, "shape", path);

        if (offsetsElement is not { } o) throw new CheckpointException(path, $"tensor '{name}': missing \"data_offsets\"");
        var offsets = ReadNonNegativeIntegers(o, name, "data_offsets", path);
        if (offsets.Length != 2)
            throw new CheckpointException(path, $"tensor '{name}': \"data_offsets\" must be [begin, end], got {Clip(o.GetRawText())}");
        return new SafeTensorsEntry(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] ReadNonNegativeIntegers(JsonElement element, string name, string field, string path)
    {
        if (element.ValueKind != JsonValueKind.Array)
            throw new CheckpointException(path, $"tensor '{name}': \"{field}\" must be an array of non-negative integers, got {Clip(element.GetRawText())}");
        var values = new long[element.GetArrayLength()];
        int i = 0;
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long v) || v < 0)
                throw new CheckpointException(path, $"tensor '{name}': \"{field}\" must hold non-negative integers, got {Clip(item.GetRawText())}");
            values[i++] = v;
        }
        return values;
    }

    /// <summary>Checks that the data regions, sorted by offset, tile [0, dataLength) exactly and that each region's
    /// length is its shape's element count times its dtype size.</summary>
    private static void ValidateLayout(IEnumerable<SafeTensorsEntry> entries, long dataLength, string path)
    {
        long expected = 0;
        SafeTensorsEntry? previous = null;
        foreach (var e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            string region = $"data_offsets [{e.Begin}, {e.End}]";
            if (e.End < e.Begin) throw new CheckpointException(path, $"tensor '{e.Name}': {region} end before begin");
            if (e.End > dataLength)
                throw new CheckpointException(path, $"tensor '{e.Name}': {region} run past the end of the data section ({dataLength} bytes; truncated file or lying offsets)");
            if (e.Begin < expected)
                throw new CheckpointException(path, $"tensor '{e.Name}': {region} overlap tensor '{previous!.Name}' [{previous.Begin}, {previous.End}]");
            if (e.Begin > expected)
                throw new CheckpointException(path, $"tensor '{e.Name}': {region} leave a hole of {e.Begin - expected} bytes before it (data regions must be contiguous)");
            long bytes;
            try { bytes = checked(e.Shape.Aggregate(1L, (acc, dim) => acc * dim) * e.Dtype.ElementSize()); }
            catch (OverflowException) { throw new CheckpointException(path, $"tensor '{e.Name}': shape [{string.Join(", ", e.Shape)}] overflows a 64-bit byte count"); }
            if (bytes != e.End - e.Begin)
                throw new CheckpointException(path, $"tensor '{e.Name}': dtype {e.Dtype.HeaderName()} with shape [{string.Join(", ", e.Shape)}] needs {bytes} bytes but {region} span {e.End - e.Begin}");
            expected = e.End;
            previous = e;
        }
        if (expected != dataLength)
            throw new CheckpointException(path, $"{dataLength - expected} trailing bytes after the last tensor's data (the data section must be covered exactly)");
    }

    internal static void ReadExactly(SafeFileHandle handle, string path, Span<byte> buffer, long offset)
    {
        while (!buffer.IsEmpty)
        {
            int read = RandomAccess.Read(handle, buffer, offset);
            if (read <= 0) throw new CheckpointException(path, $"unexpected end of file at byte {offset} (file changed while open?)");
            buffer = buffer[read..];
            offset += read;
        }
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");

    private static string Clip(string s) => OneLine(s.Length <= 40 ? s : s[..40] + "...");

    /// <summary>The header bytes the reference writer produces: compact JSON with "__metadata__" first (when given,
    /// its keys in ordinal order), then the tensors in the given order, padded with spaces to a multiple of 8.</summary>
    public static byte[] Serialize(IReadOnlyList<SafeTensorsEntry> ordered, IReadOnlyDictionary<string, string>? metadata)
    {
        var sb = new StringBuilder("{");
        bool first = true;
        if (metadata is not null)
        {
            AppendString(sb, MetadataKey);
            sb.Append(":{");
            bool firstKey = true;
            foreach (var key in metadata.Keys.OrderBy(k => k, Utf8Order.Instance))
            {
                if (!firstKey) sb.Append(',');
                firstKey = false;
                AppendString(sb, key);
                sb.Append(':');
                AppendString(sb, metadata[key]);
            }
            sb.Append('}');
            first = false;
        }
        foreach (var e in ordered)
        {
            if (!first) sb.Append(',');
            first = false;
            AppendString(sb, e.Name);
            sb.Append(":{\"dtype\":");
            AppendString(sb, e.Dtype.HeaderName());
            sb.Append(",\"shape\":[").AppendJoin(',', e.Shape).Append("],\"data_offsets\":[")
              .Append(e.Begin).Append(',').Append(e.End).Append("]}");
        }
        sb.Append('}');
        int length = Encoding.UTF8.GetByteCount(sb.ToString());
        sb.Append(' ', (8 - length % 8) % 8);
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>A JSON string as serde_json writes it (<paramref name="asciiOnly"/> false: quote, backslash and control
    /// characters escaped, everything else raw) or as Python's json module does with ensure_ascii (true: every character
    /// outside space..tilde escaped, UTF-16 code units as \uXXXX).</summary>
    internal static void AppendString(StringBuilder sb, string s, bool asciiOnly = false)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < ' ' || (asciiOnly && c > '~')) sb.Append("\\u").Append(((int)c).ToString("x4"));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}

/// <summary>Orders strings by their UTF-8 bytes, which is Unicode code-point order: Rust's and Python's string order.</summary>
internal sealed class Utf8Order : IComparer<string>
{
    public static readonly Utf8Order Instance = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y)) return 0;
        if (x is null) return -1;
        if (y is null) return 1;
        return Encoding.UTF8.GetBytes(x).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(y));
    }
}
