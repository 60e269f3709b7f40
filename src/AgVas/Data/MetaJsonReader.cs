using System.Text.Json;

namespace AgVas.Data;

/// <summary>
/// The <c>meta.json</c> of AnomalyCLIP / AdaCLIP / Bayes-PFL:
/// <c>{"train"|"test": {category: [{img_path, mask_path, cls_name, specie_name, anomaly}]}}</c>,
/// paths relative to the json's folder, <c>mask_path</c> empty for normal images.
/// </summary>
internal static class MetaJsonReader
{
    public static IReadOnlyList<Sample> Read(string jsonPath, DatasetOptions options)
    {
        if (!File.Exists(jsonPath)) throw new DataException(jsonPath, "file not found");
        var root = Path.GetDirectoryName(jsonPath)!;
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(jsonPath)); }
        catch (JsonException e) { throw new DataException(jsonPath, $"not valid JSON (line {e.LineNumber + 1}: {FirstLine(e.Message)})", e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new DataException(jsonPath, "expected a JSON object with \"train\"/\"test\" keys");
            if (!doc.RootElement.TryGetProperty(options.Split, out var split))
            {
                var present = string.Join(", ", doc.RootElement.EnumerateObject().Select(p => p.Name));
                throw new DataException(jsonPath, $"no '{options.Split}' split (keys present: {present})");
            }
            if (split.ValueKind != JsonValueKind.Object)
                throw new DataException(jsonPath, $"'{options.Split}' must map category names to lists of images");
            var source = Path.GetFileName(root);
            var samples = new List<Sample>();
            foreach (var category in split.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
            {
                if (category.Value.ValueKind != JsonValueKind.Array)
                    throw new DataException(jsonPath, $"{options.Split}/{category.Name}: expected a list of images");
                int i = 0;
                foreach (var entry in category.Value.EnumerateArray())
                {
                    var where = $"{options.Split}/{category.Name}[{i++}]";
                    if (entry.ValueKind != JsonValueKind.Object) throw new DataException(jsonPath, $"{where}: expected an object");
                    var img = String(entry, "img_path", jsonPath, where);
                    if (string.IsNullOrWhiteSpace(img)) throw new DataException(jsonPath, $"{where}: missing img_path");
                    var mask = String(entry, "mask_path", jsonPath, where) ?? "";
                    bool anomalous = Anomaly(entry, jsonPath, where);
                    if (anomalous && mask.Length == 0) throw new DataException(jsonPath, $"{where}: anomalous image without a mask_path");
                    var imagePath = Datasets.Resolve(root, img);
                    string[] masks = mask.Length > 0 ? [Datasets.Resolve(root, mask)] : [];
                    var cls = String(entry, "cls_name", jsonPath, where);
                    var specie = String(entry, "specie_name", jsonPath, where);
                    samples.Add(new Sample(imagePath, Datasets.Relative(root, imagePath), string.IsNullOrEmpty(cls) ? category.Name : cls,
                        anomalous, masks, MaskRule.GreaterThanZero, string.IsNullOrEmpty(specie) ? null : specie, source));
                }
            }
            return samples;
        }
    }

    private static string? String(JsonElement entry, string name, string file, string where)
    {
        if (!entry.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind == JsonValueKind.String
            ? value.GetString()!.Trim()
            : throw new DataException(file, $"{where}: '{name}' must be a string, got {value.ValueKind}");
    }

    private static bool Anomaly(JsonElement entry, string file, string where)
    {
        if (!entry.TryGetProperty("anomaly", out var value)) throw new DataException(file, $"{where}: missing 'anomaly'");
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number when value.TryGetInt32(out var n) && n is 0 or 1 => n == 1,
            JsonValueKind.String => Datasets.ParseLabel(value.GetString()!, file, where),
            _ => throw new DataException(file, $"{where}: bad label 'anomaly': {value.GetRawText()} (expected 0 or 1)"),
        };
    }

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();
}
