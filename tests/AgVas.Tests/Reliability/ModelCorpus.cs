using System.Buffers.Binary;
using System.Text;
using AgVas.Checkpoints;

namespace AgVas.Tests.Reliability;

/// <summary>Broken copies of a model directory: truncated weights, safetensors headers that lie (length, ranges, overlap,
/// dtype, shape), and bad or missing configuration and tokenizer files. Each comes with the file its error must name.</summary>
internal static class ModelCorpus
{
    public static IEnumerable<(string Dir, string BadFile, string Problem)> Variants(string model, string root)
    {
        var weights = File.ReadAllBytes(Path.Combine(model, AgVasModelDirectory.WeightsFileName));
        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(weights);
        int k = 0;
        string Variant(string problem, byte[]? weightBytes, Action<string>? edit = null)
        {
            var dir = Path.Combine(root, $"{k++:D2}");
            Directory.CreateDirectory(dir);
            foreach (var f in new[] { AgVasModelDirectory.ConfigFileName, AgVasModelDirectory.TokenizerFileName })
                File.Copy(Path.Combine(model, f), Path.Combine(dir, f));
            if (weightBytes is not null) File.WriteAllBytes(Path.Combine(dir, AgVasModelDirectory.WeightsFileName), weightBytes);
            edit?.Invoke(dir);
            return dir;
        }

        const string st = AgVasModelDirectory.WeightsFileName;
        foreach (int cut in new[] { 0, 4, 8, 100, headerEnd - 1, headerEnd, headerEnd + 10, weights.Length / 2, weights.Length - 1 })
            yield return (Variant($"weights cut to {cut} bytes", weights[..cut]), st, $"cut to {cut}");
        yield return (Variant("weights + 16 bytes", [.. weights, .. new byte[16]]), st, "trailing bytes");

        const string a = "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}";
        const string b = "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[24,40]}";
        foreach (var (header, problem) in new[]
                 {
                     ($"{{{a},{b}}}", "a valid file of other tensors"),
                     ($"{{{a},{b.Replace("[24,40]", "[24,4000]")}}}", "a range beyond the end"),
                     ($"{{{a},{b.Replace("[24,40]", "[16,32]")}}}", "overlapping ranges"),
                     ($"{{{a.Replace("F32", "F9")},{b}}}", "an unknown dtype"),
                     ($"{{{a.Replace("[0,24]", "[-8,24]")},{b}}}", "a negative offset"),
                     ($"{{{a.Replace("[0,24]", "[0,20]")},{b}}}", "bytes that do not fit the shape"),
                     ($"{{{a.Replace("[2,3]", "[1099511627776,1099511627776]")},{b}}}", "a shape of 2^80 elements"),
                     ($"{{{a},{a}}}", "a duplicate name"),
                     ("[1, 2, 3]", "a JSON array"),
                     ("{\"a\": ", "cut JSON"),
                     ($"{{{a.Replace("[0,24]", "\"0-24\"")},{b}}}", "offsets as a string"),
                 })
            yield return (Variant(problem, Safetensors(header, 40)), st, problem);
        yield return (Variant("header length 2^64-1", LengthOnly(ulong.MaxValue)), st, "header length 2^64-1");
        yield return (Variant("header length 2^40", LengthOnly(1UL << 40)), st, "header length 2^40");
        yield return (Variant("header length 0", LengthOnly(0)), st, "header length 0");
        yield return (Variant("header not UTF-8", Safetensors("{\"\u00ff\":1}", 0, latin1: true)), st, "not UTF-8");

        yield return (Variant("no weights", null), st, "no weights file");
        yield return (Variant("weights a folder", null, d => Directory.CreateDirectory(Path.Combine(d, st))), st, "a folder");
        yield return (Variant("no config", weights, d => File.Delete(Path.Combine(d, AgVasModelDirectory.ConfigFileName))),
            AgVasModelDirectory.ConfigFileName, "no agvas_config.json");
        yield return (Variant("config not JSON", weights, d => File.WriteAllText(Path.Combine(d, AgVasModelDirectory.ConfigFileName), "{ not json")),
            AgVasModelDirectory.ConfigFileName, "config not JSON");
        yield return (Variant("config wrong type", weights, d => EditConfig(d, t => t.Replace("\"HiddenSize\": 128", "\"HiddenSize\": \"big\""))),
            AgVasModelDirectory.ConfigFileName, "a wrong type");
        yield return (Variant("no tokenizer", weights, d => File.Delete(Path.Combine(d, AgVasModelDirectory.TokenizerFileName))),
            AgVasModelDirectory.TokenizerFileName, "no tokenizer");
    }

    private static void EditConfig(string dir, Func<string, string> edit)
    {
        var path = Path.Combine(dir, AgVasModelDirectory.ConfigFileName);
        var text = File.ReadAllText(path);
        var edited = edit(text);
        if (edited == text) throw new InvalidOperationException("the edit changed nothing");
        File.WriteAllText(path, edited);
    }

    private static byte[] Safetensors(string header, int dataBytes, bool latin1 = false)
    {
        var h = latin1 ? Encoding.Latin1.GetBytes(header) : Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)h.Length);
        h.CopyTo(bytes, 8);
        return bytes;
    }

    private static byte[] LengthOnly(ulong length)
    {
        var bytes = new byte[64];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, length);
        return bytes;
    }
}
