using AgVas.Data;

namespace AgVas.Evaluation;

/// <summary>
/// A directory of predictions that mirrors a dataset: for a sample with relative path <c>a/b/000.png</c>,
/// <c>&lt;root&gt;/a/b/000.npy</c> is the continuous map (float16/32/64, [H, W]; leading axes of size 1 are
/// accepted) and optionally <c>&lt;root&gt;/a/b/000_mask.png</c> the predictor's binary mask (&gt; 0 is anomaly).
/// A map whose size differs from the ground truth is resized bilinearly as PyTorch's
/// <c>F.interpolate(mode="bilinear", align_corners=False)</c>; masks are never resized and must match the image.
/// Maps are evaluated in float32 (float64 maps are rounded).
/// </summary>
public sealed class PredictionDirectory
{
    public const string MapExtension = ".npy";
    public const string MaskSuffix = "_mask.png";
    /// <summary>How many missing files an error lists.</summary>
    private const int ListedMissing = 5;

    public PredictionDirectory(string root)
    {
        if (!Directory.Exists(root)) throw new DataException(root, "prediction directory not found");
        Root = Path.GetFullPath(root);
    }

    public string Root { get; }

    /// <summary>The map file of a sample: its relative path with the extension replaced by <c>.npy</c>.</summary>
    public string MapPath(Sample sample) => Stem(sample) + MapExtension;

    /// <summary>The optional mask file of a sample: its relative path with the extension replaced by <c>_mask.png</c>.</summary>
    public string MaskPath(Sample sample) => Stem(sample) + MaskSuffix;

    private string Stem(Sample sample)
    {
        if (Path.IsPathRooted(sample.RelativePath))
            throw new DataException(sample.ImagePath, $"relative path '{sample.RelativePath}' is absolute; predictions cannot mirror it");
        var relative = sample.RelativePath;
        var extension = Path.GetExtension(relative);
        return Path.Combine(Root, relative[..^extension.Length]);
    }

    /// <summary>
    /// Checks that every sample has a map, and decides where IoU masks come from: the <c>_mask.png</c> files when
    /// every sample has one, the oracle F1 threshold when none has; a partial set of masks is an error.
    /// </summary>
    public IouSource Check(IReadOnlyList<Sample> samples)
    {
        var missingMaps = samples.Where(s => !File.Exists(MapPath(s))).ToList();
        if (missingMaps.Count > 0) throw Missing(missingMaps, MapPath, "maps", "expected <relative image path without extension>.npy");
        var missingMasks = samples.Where(s => !File.Exists(MaskPath(s))).ToList();
        if (missingMasks.Count == samples.Count) return IouSource.OracleF1Threshold;
        if (missingMasks.Count > 0)
            throw Missing(missingMasks, MaskPath, "masks", "give a <relative image path without extension>_mask.png for every image or for none");
        return IouSource.PredictedMasks;
    }

    private DataException Missing(List<Sample> missing, Func<Sample, string> path, string what, string hint)
    {
        var listed = string.Join(", ", missing.Take(ListedMissing).Select(s => Path.GetRelativePath(Root, path(s))));
        return new DataException(Root, $"missing prediction {what} for {missing.Count} image(s): {listed}{(missing.Count > ListedMissing ? ", ..." : "")} ({hint})");
    }

    /// <summary>Loads a sample's ground truth and prediction at the ground truth's size.</summary>
    public EvaluationImage Load(Sample sample, IouSource source)
    {
        var (width, height) = ImageIO.ReadSize(sample.ImagePath);
        var truth = sample.MaskPaths.Count == 0 ? null : ImageIO.LoadMasks(sample.MaskPaths, sample.MaskRule, width, height, sample.ImagePath).Data;
        var scores = LoadMap(MapPath(sample), width, height);
        bool[]? mask = null;
        if (source == IouSource.PredictedMasks)
        {
            var path = MaskPath(sample);
            var loaded = ImageIO.LoadMask(path, MaskRule.GreaterThanZero);
            if (loaded.Width != width || loaded.Height != height)
                throw new DataException(path, $"mask is {loaded.Width}x{loaded.Height} but the image is {width}x{height} (masks are not resized; save them at image size)");
            mask = loaded.Data;
        }
        return new EvaluationImage(sample.RelativePath, sample.IsAnomalous, width, height, scores, truth, mask);
    }

    /// <summary>Reads a map, checks it is a finite 2-D float array and resizes it to width x height if needed.</summary>
    public static float[] LoadMap(string path, int width, int height)
    {
        var array = Npy.Read(path);
        if (array.Type is not (NpyType.Float16 or NpyType.Float32 or NpyType.Float64))
            throw new DataException(path, $"score map has dtype '{Npy.Descr(array.Type)}'; expected float32 or float64 (a binary mask belongs in a _mask.png)");
        var shape = array.Shape.SkipWhile((d, k) => d == 1 && k < array.Shape.Count - 2).ToArray();
        if (shape.Length != 2 || shape[0] == 0 || shape[1] == 0)
            throw new DataException(path, $"score map has shape {Npy.FormatShape(array.Shape)}; expected a 2-D map (H, W)");
        var scores = array.ToSingle();
        for (int i = 0; i < scores.Length; i++)
        {
            if (float.IsFinite(scores[i])) continue;
            string what = float.IsNaN(scores[i]) ? "NaN"
                : array.Type == NpyType.Float64 && double.IsFinite(array.ToDouble()[i]) ? "a value beyond the float32 range"
                : "an infinite value";
            throw new DataException(path, $"score map holds {what} at (y={i / shape[1]}, x={i % shape[1]})");
        }
        int h = shape[0], w = shape[1];
        return w == width && h == height ? scores : BilinearResize.Resize(scores, w, h, width, height);
    }
}
