using System.Buffers;
using System.Runtime.ExceptionServices;
using AgVas.Data;

namespace AgVas.Evaluation;

/// <summary>
/// A directory of predictions that mirrors a dataset: for a sample with relative path <c>a/b/000.png</c>,
/// <c>&lt;root&gt;/a/b/000.npy</c> is the continuous map (float16/32/64, [H, W]; leading axes of size 1 are
/// accepted) and optionally <c>&lt;root&gt;/a/b/000_mask.png</c> the predictor's binary mask (&gt; 0 is anomaly), named by
/// <see cref="Inference.PredictionFiles"/>' rule (images sharing a stem keep their extension: <c>x.jpg.npy</c>), or as the
/// folder's <c>results.jsonl</c> recorded them.
/// A map whose size differs from its image is an error naming the file and both sizes, unless <c>resizeMaps</c>, when
/// it is resized bilinearly as PyTorch's <c>F.interpolate(mode="bilinear", align_corners=False)</c>; masks are never
/// resized and must match the image. Maps are evaluated in float32 (float64 maps are rounded). A folder with a run
/// manifest (<see cref="Inference.PredictionRun"/>) is refused unless that run completed.
/// </summary>
public sealed class PredictionDirectory
{
    public const string MapExtension = ".npy";
    public const string MaskSuffix = "_mask.png";
    /// <summary>How many missing files an error lists.</summary>
    private const int ListedMissing = 5;

    private readonly ShardSpec? _shard;

    /// <summary>
    /// For an evaluation of <paramref name="samples"/> from a folder of shards (#20): every image is in exactly one shard's
    /// results, none is foreign, and the shards were cut from this dataset; throws <see cref="DataException"/> otherwise.
    /// Does nothing for an unsharded run or when the folder was opened for one shard.
    /// </summary>
    public void CheckCoverage(IReadOnlyList<Sample> samples)
    {
        if (_shard is not { Count: > 1 }) Inference.PredictionRun.CheckCoverage(Root, samples);
    }

    /// <param name="root">The folder.</param>
    /// <param name="resizeMaps">Resize maps whose size differs from their image (otherwise such a map is an error).</param>
    /// <param name="shard">Read only this shard's run (<c>agvas test --shard</c>); null: the folder's run, or all its shards,
    /// which must form one complete set (<see cref="Inference.PredictionRun.CheckComplete"/>).</param>
    public PredictionDirectory(string root, bool resizeMaps = false, ShardSpec? shard = null)
    {
        if (!Directory.Exists(root)) throw new DataException(root, "prediction directory not found");
        Inference.PredictionRun.CheckComplete(root, shard);
        Root = Path.GetFullPath(root);
        _shard = shard;
        ResizeMaps = resizeMaps;
        var resultFiles = shard is { Count: > 1 } ? [Path.Combine(Root, Inference.PredictionRun.ResultsName(shard))] : Inference.PredictionRun.ResultFiles(Root);
        foreach (var r in resultFiles.SelectMany(Inference.PredictionRun.ReadResults))
            if (r.Files is { } files && files.Map.EndsWith(MapExtension, StringComparison.Ordinal)
                && Path.GetFullPath(Path.Combine(Root, files.Map)).StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                _recorded[r.Image] = files.Map[..^MapExtension.Length];
    }

    /// <summary>Stems by image as the predicting run recorded them in results.jsonl (they win over the naming rule, which
    /// depends on the set of images a run had).</summary>
    private readonly Dictionary<string, string> _recorded = new(StringComparer.Ordinal);

    public string Root { get; }

    /// <summary>Whether maps of another size than their image are resized (else refused).</summary>
    public bool ResizeMaps { get; }

    /// <summary>Output stems by relative image path, for the samples given to <see cref="Check"/> (the naming rule needs them all).</summary>
    private Dictionary<string, string> _stems = new(StringComparer.Ordinal);

    /// <summary>The map file of a sample: its relative path with the extension replaced by <c>.npy</c>.</summary>
    public string MapPath(Sample sample) => Stem(sample) + MapExtension;

    /// <summary>The optional mask file of a sample: its relative path with the extension replaced by <c>_mask.png</c>.</summary>
    public string MaskPath(Sample sample) => Stem(sample) + MaskSuffix;

    private string Stem(Sample sample)
    {
        if (Path.IsPathRooted(sample.RelativePath))
            throw new DataException(sample.ImagePath, $"relative path '{sample.RelativePath}' is absolute; predictions cannot mirror it");
        if (_recorded.TryGetValue(sample.RelativePath, out var stem) || _stems.TryGetValue(sample.RelativePath, out stem)) return Path.Combine(Root, stem);
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
        var stems = Inference.PredictionFiles.Stems([.. samples.Select(s => s.RelativePath)]);
        _stems = samples.Select((s, i) => (s.RelativePath, stems[i])).ToDictionary(x => x.RelativePath, x => x.Item2, StringComparer.Ordinal);
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
    public EvaluationImage Load(Sample sample, IouSource source) => LoadCategory([sample], source, new ParallelOptions())[0];

    /// <summary>
    /// Loads the samples of one category in parallel: first every image's size (headers only), then maps, ground truth
    /// and masks straight into one array per kind for the whole category, which the returned images slice. Failures
    /// are <see cref="DataException"/>s naming the file; the lowest-indexed one found is thrown.
    /// </summary>
    /// <param name="imageLoaded">Called (from worker threads) after each image.</param>
    public EvaluationImage[] LoadCategory(IReadOnlyList<Sample> samples, IouSource source, ParallelOptions parallel, Action? imageLoaded = null)
    {
        var sizes = new ImageSize[samples.Count];
        ForEach(samples.Count, parallel, i => sizes[i] = ImageIO.ReadSize(samples[i].ImagePath));
        var offsets = new int[samples.Count + 1];
        for (int i = 0; i < samples.Count; i++)
        {
            long end = offsets[i] + (long)sizes[i].Width * sizes[i].Height;
            if (end > Array.MaxLength) throw new DataException(samples[i].ImagePath, $"category {samples[i].Category} has more than {Array.MaxLength} pixels");
            offsets[i + 1] = (int)end;
        }
        int total = offsets[^1];
        var scores = GC.AllocateUninitializedArray<float>(total);
        var truth = samples.Any(s => s.MaskPaths.Count > 0) ? new bool[total] : null;
        var masks = source == IouSource.PredictedMasks ? GC.AllocateUninitializedArray<bool>(total) : null;
        var images = new EvaluationImage[samples.Count];
        ForEach(samples.Count, parallel, i =>
        {
            var sample = samples[i];
            var (width, height) = sizes[i];
            int start = offsets[i], n = offsets[i + 1] - start;
            LoadMap(MapPath(sample), scores.AsSpan(start, n), width, height, ResizeMaps ? null : sample.ImagePath);
            var truthSlice = Memory<bool>.Empty;
            if (sample.MaskPaths.Count > 0)
            {
                truthSlice = truth.AsMemory(start, n);
                ImageIO.LoadMasks(sample.MaskPaths, sample.MaskRule, width, height, sample.ImagePath).Data.CopyTo(truthSlice);
            }
            var maskSlice = Memory<bool>.Empty;
            if (masks is not null)
            {
                var path = MaskPath(sample);
                var loaded = ImageIO.LoadMask(path, MaskRule.GreaterThanZero);
                if (loaded.Width != width || loaded.Height != height)
                    throw new DataException(path, $"mask is {loaded.Width}x{loaded.Height} but the image is {width}x{height} (masks are not resized; save them at image size)");
                maskSlice = masks.AsMemory(start, n);
                loaded.Data.CopyTo(maskSlice);
            }
            images[i] = new EvaluationImage(sample.RelativePath, sample.IsAnomalous, width, height, scores.AsMemory(start, n), truthSlice, maskSlice);
            imageLoaded?.Invoke();
        });
        return images;
    }

    /// <summary>Runs <paramref name="body"/> for 0..count-1 in parallel; rethrows the lowest-indexed file error found (the loop stops at the first).</summary>
    private static void ForEach(int count, ParallelOptions parallel, Action<int> body)
    {
        var errors = new Exception?[count];
        Parallel.For(0, count, parallel, (i, state) =>
        {
            try
            {
                body(i);
            }
            catch (Exception e) when (e is DataException or IOException or UnauthorizedAccessException)
            {
                errors[i] = e;
                state.Stop();
            }
        });
        if (errors.FirstOrDefault(e => e is not null) is { } error) ExceptionDispatchInfo.Throw(error);
    }

    /// <summary>Reads a map, checks it is a finite 2-D float array and resizes it to width x height if needed.</summary>
    public static float[] LoadMap(string path, int width, int height)
    {
        var result = new float[checked(width * height)];
        LoadMap(path, result, width, height);
        return result;
    }

    /// <summary>Reads a map into <paramref name="destination"/> ([height, width]); a map of another size is resized, or,
    /// when <paramref name="refuseOtherSizeOf"/> names its image, refused.</summary>
    public static void LoadMap(string path, Span<float> destination, int width, int height, string? refuseOtherSizeOf = null)
    {
        var rented = Npy.ReadSingle(path, ArrayPool<float>.Shared, out var stored, out var type);
        try
        {
            if (type is not (NpyType.Float16 or NpyType.Float32 or NpyType.Float64))
                throw new DataException(path, $"score map has dtype '{Npy.Descr(type)}'; expected float32 or float64 (a binary mask belongs in a _mask.png)");
            var shape = stored.SkipWhile((d, k) => d == 1 && k < stored.Length - 2).ToArray();
            if (shape.Length != 2 || shape[0] == 0 || shape[1] == 0)
                throw new DataException(path, $"score map has shape {Npy.FormatShape(stored)}; expected a 2-D map (H, W)");
            int h = shape[0], w = shape[1];
            if ((w != width || h != height) && refuseOtherSizeOf is not null)
                throw new DataException(path, $"score map is {w}x{h} (W x H) but its image {refuseOtherSizeOf} is {width}x{height}; " +
                    "save maps at the image size, or give --resize-maps to resize them bilinearly");
            var scores = rented.AsSpan(0, h * w);
            for (int i = 0; i < scores.Length; i++)
            {
                if (float.IsFinite(scores[i])) continue;
                string what = float.IsNaN(scores[i]) ? "NaN"
                    : type == NpyType.Float64 && double.IsFinite(Npy.Read(path).ToDouble()[i]) ? "a value beyond the float32 range"
                    : "an infinite value";
                throw new DataException(path, $"score map holds {what} at (y={i / w}, x={i % w})");
            }
            if (w == width && h == height) scores.CopyTo(destination);
            else BilinearResize.Resize(scores, w, h, destination, width, height);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }
}
