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
/// <c>height</c>, <c>mode</c>; or <c>image</c> and <c>error</c>.</summary>
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
public sealed record PredictionRecord(string Image, string? Text, bool? AnchorsForced, int? AnomalyPixels, double? AnomalyFraction,
    int? Width, int? Height, string? Mode, string? Error, string? RawText = null, MaskFacts? Facts = null,
    IReadOnlyList<AnswerAspect>? RawTextConflicts = null)
{
    /// <summary>The record of a prediction of <paramref name="image"/>.</summary>
    public static PredictionRecord Of(string image, Prediction p) =>
        new(image, p.Text, p.AnchorsForced, p.AnomalyPixels, p.AnomalyFraction, p.Width, p.Height, p.Mode.ToString(), null, p.RawText, p.Facts,
            AnswerAgreement.Check(p.RawText, p.Facts).Conflicts.Select(c => c.Aspect).Distinct().Order().ToList());

    /// <summary>The record of an image that could not be predicted.</summary>
    public static PredictionRecord Failed(string image, string error) => new(image, null, null, null, null, null, null, null, error);

    /// <summary>The record as one JSON line (fields above).</summary>
    public string ToJson()
    {
        var o = new JsonObject { ["image"] = Image };
        if (Error is not null) o["error"] = Error;
        else
        {
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

/// <summary>
/// The files a prediction is written as. For a stem <c>a/b/000</c> (an image's relative path without extension):
/// <c>a/b/000.npy</c> = the fused map P (float32 [H, W], original size), <c>a/b/000_mask.png</c> = M (255 = anomaly) —
/// the layout <c>agvas eval</c> reads (<see cref="Evaluation.PredictionDirectory"/>) — and for <c>segment</c> also
/// <c>a/b/000_overlay.png</c> (mask contour in red over the map as a heat layer). Every file is written atomically.
/// </summary>
public static class PredictionFiles
{
    /// <summary>The answers' file name, one JSON record per line.</summary>
    public const string ResultsFile = "results.jsonl";
    /// <summary>Ending of an overlay's file name.</summary>
    public const string OverlaySuffix = "_overlay.png";

    /// <summary><paramref name="relativePath"/> without its extension, under <paramref name="outDir"/>.</summary>
    public static string Stem(string outDir, string relativePath)
    {
        if (Path.IsPathRooted(relativePath) || relativePath.Split('/', '\\').Contains(".."))
            throw new ArgumentException($"'{relativePath}' must be a relative path inside the output directory", nameof(relativePath));
        var extension = Path.GetExtension(relativePath);
        return Path.Combine(outDir, relativePath[..^extension.Length]);
    }

    /// <summary>Where the map of <paramref name="relativePath"/> goes.</summary>
    public static string MapPath(string outDir, string relativePath) => Stem(outDir, relativePath) + Evaluation.PredictionDirectory.MapExtension;
    /// <summary>Where the mask of <paramref name="relativePath"/> goes.</summary>
    public static string MaskPath(string outDir, string relativePath) => Stem(outDir, relativePath) + Evaluation.PredictionDirectory.MaskSuffix;
    /// <summary>Where the overlay of <paramref name="relativePath"/> goes.</summary>
    public static string OverlayPath(string outDir, string relativePath) => Stem(outDir, relativePath) + OverlaySuffix;

    /// <summary>Writes the map (.npy) and the mask (_mask.png).</summary>
    public static void WriteMapAndMask(string outDir, string relativePath, Prediction p)
    {
        p.SaveMap(MapPath(outDir, relativePath));
        p.SaveMask(MaskPath(outDir, relativePath));
    }

    /// <summary>Writes the overlay: the mask contour in red over P as a heat layer.</summary>
    public static void WriteOverlay(string outDir, string relativePath, RgbImage image, Prediction p) =>
        p.SaveOverlay(OverlayPath(outDir, relativePath), image);

    /// <summary>Writes <c>results.jsonl</c> (one line per record, in order), atomically.</summary>
    public static void WriteResults(string outDir, IEnumerable<PredictionRecord> records)
    {
        var text = new StringBuilder();
        foreach (var r in records) text.Append(r.ToJson()).Append('\n');
        AtomicFile.WriteAllText(Path.Combine(outDir, ResultsFile), text.ToString());
    }
}
