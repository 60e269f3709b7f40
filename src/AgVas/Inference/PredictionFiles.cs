using System.Text;
using System.Text.Json.Nodes;
using AgVas.Data;

namespace AgVas.Inference;

/// <summary>One line of <c>results.jsonl</c>: the answer for an image, or why it failed. JSON fields: <c>image</c>,
/// <c>text</c> (the answer, agreeing with the mask), <c>raw_text</c> (the model's generation), <c>raw_text_conflicts</c>
/// (the aspects on which the raw text contradicts the mask: verdict, location, size, regions, shape), <c>anchors_forced</c>,
/// the mask's facts <c>verdict</c> ("normal" / "anomalous"), <c>anomaly_pixels</c>, <c>anomaly_fraction</c>,
/// <c>size_class</c> (tiny, small, medium, large), <c>location</c> ("bottom right"), <c>region_count</c>, <c>shape</c>
/// (round, line-like, irregular, scattered), <c>orientation</c> (of a line-like shape; these are null for a normal image), then <c>width</c>,
/// <c>height</c>, <c>mode</c>; or <c>image</c> and <c>error</c>. A record of a written prediction also holds <c>mask</c>,
/// <c>map</c> and <c>overlay</c> (the files' paths relative to the output folder, '/'-separated; <c>overlay</c> null when
/// none was written) and <c>score</c> (the image-level score, <see cref="Prediction.Score"/>).</summary>
/// <param name="Image">The image's path relative to the dataset (predict) or as given (segment).</param>
/// <param name="Text">The answer, agreeing with the mask; null on error.</param>
/// <param name="AnchorsForced">Whether the anchors were forced.</param>
/// <param name="AnomalyPixels">Mask pixels.</param>
/// <param name="AnomalyFraction">Mask pixels / image pixels.</param>
/// <param name="Width">Image width.</param>
/// <param name="Height">Image height.</param>
/// <param name="Mode">The instruction type's name.</param>
/// <param name="Error">Why the image failed; null otherwise.</param>
/// <param name="RawText">The model's generation as it came.</param>
/// <param name="Facts">The mask's facts.</param>
/// <param name="RawTextConflicts">The aspects on which the raw text contradicts the mask.</param>
/// <param name="Score">The image-level score.</param>
/// <param name="Files">Where the prediction was written, relative to the output folder.</param>
public sealed record PredictionRecord(string Image, string? Text, bool? AnchorsForced, int? AnomalyPixels, double? AnomalyFraction,
    int? Width, int? Height, string? Mode, string? Error, string? RawText = null, MaskFacts? Facts = null,
    IReadOnlyList<AnswerAspect>? RawTextConflicts = null, float? Score = null, PredictionPaths? Files = null)
{
    /// <summary>The JSON line this record was read back from (a resumed run keeps it as written).</summary>
    private string? _json;

    /// <summary>The record of a prediction of <paramref name="image"/>, written to <paramref name="files"/>.</summary>
    public static PredictionRecord Of(string image, Prediction p, PredictionPaths? files = null) =>
        new(image, p.Text, p.AnchorsForced, p.AnomalyPixels, p.AnomalyFraction, p.Width, p.Height, p.Mode.ToString(), null, p.RawText, p.Facts,
            AnswerAgreement.Check(p.RawText, p.Facts).Conflicts.Select(c => c.Aspect).Distinct().Order().ToList(), p.Score, files);

    /// <summary>Reads back a line of <c>results.jsonl</c>: the image, the error or the written files, kept verbatim for
    /// <see cref="ToJson"/>; null for a line that is not a record (e.g. cut short by a kill).</summary>
    public static PredictionRecord? TryParse(string line)
    {
        try
        {
            if (JsonNode.Parse(line) is not JsonObject o || o["image"]?.GetValue<string>() is not { } image) return null;
            string? Text(string key) => o[key]?.GetValue<string>();
            PredictionPaths? files = Text("map") is { } map && Text("mask") is { } mask ? new PredictionPaths(map, mask, Text("overlay")) : null;
            return new PredictionRecord(image, Text("text"), null, null, null, null, null, Text("mode"), Text("error"), Files: files) { _json = line };
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    /// <summary>The record of an image that could not be predicted.</summary>
    public static PredictionRecord Failed(string image, string error) => new(image, null, null, null, null, null, null, null, error);

    /// <summary>The record as one JSON line (fields above).</summary>
    public string ToJson()
    {
        if (_json is not null) return _json;
        var o = new JsonObject { ["image"] = Image };
        if (Error is not null) o["error"] = Error;
        else
        {
            if (Files is not null)
            {
                o["mask"] = Files.Mask;
                o["map"] = Files.Map;
                o["overlay"] = Files.Overlay;
            }
            if (Score is { } score) o["score"] = score;
            o["text"] = Text;
            if (RawText is not null) o["raw_text"] = RawText;
            if (RawTextConflicts is not null) o["raw_text_conflicts"] = new JsonArray([.. RawTextConflicts.Select(a => JsonValue.Create(Name(a)))]);
            o["anchors_forced"] = AnchorsForced;
            if (Facts is not null) o["verdict"] = Facts.Verdict == Verdict.Anomalous ? "anomalous" : "normal";
            o["anomaly_pixels"] = AnomalyPixels;
            o["anomaly_fraction"] = AnomalyFraction;
            if (Facts is not null)
            {
                o["size_class"] = Facts.Size?.ToString().ToLowerInvariant();
                o["location"] = Facts.Location;
                o["region_count"] = Facts.RegionCount;
                o["shape"] = Facts.Shape is { } shape ? MaskFacts.ShapeName(shape) : null;
                o["orientation"] = Facts.Geometry?.Orientation;
            }
            o["width"] = Width;
            o["height"] = Height;
            o["mode"] = Mode;
        }
        return o.ToJsonString();
    }

    private static string Name(AnswerAspect aspect) => aspect.ToString().ToLowerInvariant();
}

/// <summary>Where one prediction is written, relative to the output folder ('/'-separated).</summary>
/// <param name="Map">The map P (.npy).</param>
/// <param name="Mask">The mask M (_mask.png).</param>
/// <param name="Overlay">The overlay (_overlay.png), when written.</param>
public sealed record PredictionPaths(string Map, string Mask, string? Overlay);

/// <summary>
/// The files a prediction is written as. For a stem <c>a/b/000</c>: <c>a/b/000.npy</c> = the fused map P (float32 [H, W],
/// original size), <c>a/b/000_mask.png</c> = M (255 = anomaly) — the layout <c>agvas eval</c> reads
/// (<see cref="Evaluation.PredictionDirectory"/>) — and for <c>segment</c> also <c>a/b/000_overlay.png</c> (mask contour in
/// red over the map as a heat layer). Every file is written atomically.
/// <para>The naming rule (<see cref="Stems"/>): an image's stem is its relative path without the extension
/// (<c>a/b/000.png</c> → <c>a/b/000</c>). When images of one run share that stem, compared ignoring case (<c>x.jpg</c>,
/// <c>x.png</c>, <c>X.bmp</c>), each of them keeps its extension instead (<c>x.jpg.npy</c>, <c>x.jpg_mask.png</c>,
/// <c>x.png.npy</c>, …); a name that still collides gets <c>-2</c>, <c>-3</c>, … in dataset order.</para>
/// </summary>
public static class PredictionFiles
{
    /// <summary>The answers' file name, one JSON record per line.</summary>
    public const string ResultsFile = "results.jsonl";
    /// <summary>Ending of an overlay's file name.</summary>
    public const string OverlaySuffix = "_overlay.png";

    /// <summary>The output stem of each of <paramref name="relativePaths"/> (the images of one run, in order), by the
    /// naming rule above: never two alike, even on a file system that ignores case.</summary>
    public static string[] Stems(IReadOnlyList<string> relativePaths)
    {
        var plain = relativePaths.Select(p => { Check(p); return WithoutExtension(p); }).ToArray();
        var shared = plain.GroupBy(s => s, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1)
            .Select(g => g.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var candidates = plain.Select((s, i) => shared.Contains(s) ? relativePaths[i] : s).ToArray();
        var taken = candidates.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var stems = new string[candidates.Length];
        for (int i = 0; i < candidates.Length; i++)
        {
            var stem = candidates[i];
            // A numbered name skips the names of other images as well as those already given.
            for (int k = 2; used.Contains(stem) || (stem != candidates[i] && taken.Contains(stem)); k++) stem = $"{candidates[i]}-{k}";
            used.Add(stem);
            stems[i] = stem;
        }
        return stems;
    }

    /// <summary>The relative paths of a prediction with stem <paramref name="stem"/> (<see cref="Stems"/>).</summary>
    public static PredictionPaths PathsOf(string stem, bool overlay) =>
        new(Forward(stem + Evaluation.PredictionDirectory.MapExtension), Forward(stem + Evaluation.PredictionDirectory.MaskSuffix),
            overlay ? Forward(stem + OverlaySuffix) : null);

    /// <summary><paramref name="relativePath"/> without its extension, under <paramref name="outDir"/> (the stem of an
    /// image whose stem no other image of the run shares).</summary>
    public static string Stem(string outDir, string relativePath)
    {
        Check(relativePath);
        return Path.Combine(outDir, WithoutExtension(relativePath));
    }

    private static void Check(string relativePath)
    {
        if (Path.IsPathRooted(relativePath) || relativePath.Split('/', '\\').Contains(".."))
            throw new ArgumentException($"'{relativePath}' must be a relative path inside the output directory", nameof(relativePath));
    }

    private static string WithoutExtension(string relativePath) => relativePath[..^Path.GetExtension(relativePath).Length];

    private static string Forward(string relative) => relative.Replace('\\', '/');

    /// <summary>Where the map of <paramref name="relativePath"/> goes.</summary>
    public static string MapPath(string outDir, string relativePath) => Stem(outDir, relativePath) + Evaluation.PredictionDirectory.MapExtension;
    /// <summary>Where the mask of <paramref name="relativePath"/> goes.</summary>
    public static string MaskPath(string outDir, string relativePath) => Stem(outDir, relativePath) + Evaluation.PredictionDirectory.MaskSuffix;
    /// <summary>Where the overlay of <paramref name="relativePath"/> goes.</summary>
    public static string OverlayPath(string outDir, string relativePath) => Stem(outDir, relativePath) + OverlaySuffix;

    /// <summary>Writes the map, the mask and (when <paramref name="files"/> names one) the overlay of a prediction.</summary>
    public static void Write(string outDir, PredictionPaths files, Prediction p, RgbImage image)
    {
        p.SaveMap(Path.Combine(outDir, files.Map));
        p.SaveMask(Path.Combine(outDir, files.Mask));
        if (files.Overlay is not null) p.SaveOverlay(Path.Combine(outDir, files.Overlay), image);
    }

    /// <summary>Deletes the files of <paramref name="files"/> that exist (a failed image must not keep an earlier run's outputs).</summary>
    public static void Delete(string outDir, PredictionPaths files)
    {
        foreach (var f in new[] { files.Map, files.Mask, files.Overlay })
            if (f is not null && File.Exists(Path.Combine(outDir, f))) File.Delete(Path.Combine(outDir, f));
    }

    /// <summary>Writes <c>results.jsonl</c> (or <paramref name="name"/>, a shard's results file; one line per record, in
    /// order), atomically.</summary>
    public static void WriteResults(string outDir, IEnumerable<PredictionRecord> records, string name = ResultsFile)
    {
        var text = new StringBuilder();
        foreach (var r in records) text.Append(r.ToJson()).Append('\n');
        AtomicFile.WriteAllText(Path.Combine(outDir, name), text.ToString());
    }
}
