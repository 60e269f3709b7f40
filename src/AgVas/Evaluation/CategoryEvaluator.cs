using System.Buffers;

namespace AgVas.Evaluation;

/// <summary>
/// Computes every metric of one category on its pooled pixels: one radix sort of all pixels (score + ground-truth
/// region id), one sweep feeding AP, AUROC, F1-max and AUPRO, then the IoU metrics from the predicted masks or at the
/// F1-max threshold, and the image-level metrics from the maxima of the maps.
/// </summary>
public static class CategoryEvaluator
{
    /// <param name="category">The category name.</param>
    /// <param name="images">Its images; each must carry a predicted mask when <paramref name="iouSource"/> is PredictedMasks.</param>
    /// <param name="iouSource">Where the IoU masks come from.</param>
    /// <param name="maxDegreeOfParallelism">Threads for the per-image steps (-1: all cores).</param>
    /// <param name="auproFprLimit">AUPRO's integration limit.</param>
    public static CategoryMetrics Evaluate(string category, IReadOnlyList<EvaluationImage> images, IouSource iouSource,
        int maxDegreeOfParallelism = -1, double auproFprLimit = Aupro.DefaultFprLimit) =>
        Evaluate(category, images, iouSource, maxDegreeOfParallelism, auproFprLimit, new KeyBuffers());

    /// <summary>As the public overload, with the key arrays reused from <paramref name="buffers"/> (one category at a time).</summary>
    internal static CategoryMetrics Evaluate(string category, IReadOnlyList<EvaluationImage> images, IouSource iouSource,
        int maxDegreeOfParallelism, double auproFprLimit, KeyBuffers buffers)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) throw new ArgumentException($"category {category} has no images", nameof(images));
        if (iouSource == IouSource.PredictedMasks && images.FirstOrDefault(i => !i.HasPredictedMask) is { } without)
            throw new ArgumentException($"{without.Name}: no predicted mask, but the IoU source is the predicted masks", nameof(images));
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };

        var ranking = Rank(images, parallel, buffers);
        var ap = new AveragePrecision(ranking.Totals);
        var auroc = new Auroc(ranking.Totals);
        var f1 = new F1Max(ranking.Totals);
        var aupro = new Aupro(ranking.Totals, auproFprLimit);
        ranking.Sweep(ap, auroc, f1, aupro);
        var f1Result = f1.Compute();

        var (iouAno, iouAnoCumulative, iouNor) = iouSource == IouSource.PredictedMasks || f1Result is not null
            ? Iou(images, iouSource, f1Result?.Threshold ?? 0f, parallel)
            : (null, null, null);

        var maxima = new float[images.Count];
        var labels = new bool[images.Count];
        for (int i = 0; i < images.Count; i++)
        {
            maxima[i] = Max(images[i].Scores.Span);
            labels[i] = images[i].IsAnomalous;
        }
        var imageRanking = ScoreRanking.FromScores(maxima, labels);
        var imageAp = new AveragePrecision(imageRanking.Totals);
        var imageAuroc = new Auroc(imageRanking.Totals);
        imageRanking.Sweep(imageAp, imageAuroc);

        int anomalous = labels.Count(l => l);
        var metrics = new MetricValues(
            ap.Compute(), auroc.Compute(), f1Result?.F1, f1Result is { } r ? ShortestDouble(r.Threshold) : null, aupro.Compute(),
            iouAno, iouAnoCumulative, iouNor, MetricValues.AverageOf(iouAno, iouNor),
            imageAuroc.Compute(), imageAp.Compute());
        return new CategoryMetrics(category, images.Count, anomalous, images.Count - anomalous, metrics);
    }

    /// <summary>
    /// Packs every pixel as (score, global region id) and sorts once. Regions are labelled per image in parallel with
    /// image-local ids, then shifted by the number of regions of the images before.
    /// </summary>
    private static ScoreRanking Rank(IReadOnlyList<EvaluationImage> images, ParallelOptions parallel, KeyBuffers buffers)
    {
        var offsets = new int[images.Count + 1];
        for (int i = 0; i < images.Count; i++)
        {
            long end = (long)offsets[i] + images[i].Scores.Length;
            if (end > Array.MaxLength) throw new InvalidOperationException($"category too large: more than {Array.MaxLength} pixels");
            offsets[i + 1] = (int)end;
        }
        int count = offsets[^1];
        var (keys, sortBuffer) = buffers.Rent(count);
        var regionSizes = new int[images.Count][];
        Parallel.For(0, images.Count, parallel, i =>
        {
            var image = images[i];
            var scores = image.Scores.Span;
            var slice = keys.AsSpan(offsets[i], scores.Length);
            if (!image.HasGroundTruth)
            {
                for (int j = 0; j < scores.Length; j++) slice[j] = ScoreRanking.Pack(scores[j], 0);
                regionSizes[i] = [];
                return;
            }
            var labels = ArrayPool<int>.Shared.Rent(scores.Length);
            try
            {
                int count = ConnectedComponents.Label8(image.GroundTruth.Span, image.Width, image.Height, labels.AsSpan(0, scores.Length));
                var sizes = new int[count];
                for (int j = 0; j < scores.Length; j++)
                {
                    int label = labels[j];
                    slice[j] = ScoreRanking.Pack(scores[j], (uint)label);
                    if (label != 0) sizes[label - 1]++;
                }
                regionSizes[i] = sizes;
            }
            finally
            {
                ArrayPool<int>.Shared.Return(labels);
            }
        });

        var regionBase = new long[images.Count];
        long regions = 0;
        for (int i = 0; i < images.Count; i++)
        {
            regionBase[i] = regions;
            regions += regionSizes[i].Length;
        }
        if (regions >= Math.Min(uint.MaxValue, Array.MaxLength))
            throw new InvalidOperationException($"too many ground-truth regions ({regions})");
        var weights = new double[regions + 1];
        Parallel.For(0, images.Count, parallel, i =>
        {
            var sizes = regionSizes[i];
            if (sizes.Length == 0) return;
            uint shift = (uint)regionBase[i];
            for (int k = 0; k < sizes.Length; k++) weights[shift + k + 1] = 1.0 / sizes[k];
            if (shift == 0) return;
            var slice = keys.AsSpan(offsets[i], offsets[i + 1] - offsets[i]);
            for (int j = 0; j < slice.Length; j++)
                if ((uint)slice[j] != 0) slice[j] += shift;
        });
        // Only the first `count` keys belong to this category: the rented arrays may be longer and hold an earlier category's keys.
        return ScoreRanking.Sort(keys, count, weights, sortBuffer);
    }

    private static (double? Mean, double? Cumulative, double? Normal) Iou(IReadOnlyList<EvaluationImage> images, IouSource source,
        float threshold, ParallelOptions parallel)
    {
        // Per image: intersection and union for anomalous images, emptiness for normal ones.
        var overlaps = new (long Intersection, long Union, bool Empty)[images.Count];
        Parallel.For(0, images.Count, parallel, i =>
        {
            var image = images[i];
            bool own = source == IouSource.PredictedMasks;
            if (!image.IsAnomalous)
            {
                overlaps[i] = (0, 0, own ? IouNormal.IsEmpty(image.PredictedMask.Span) : IouNormal.IsEmpty(image.Scores.Span, threshold));
                return;
            }
            var truth = image.HasGroundTruth ? image.GroundTruth.Span : new bool[image.Scores.Length];
            var (intersection, union) = own
                ? IouAnomalous.Overlap(image.PredictedMask.Span, truth)
                : IouAnomalous.Overlap(image.Scores.Span, threshold, truth);
            overlaps[i] = (intersection, union, false);
        });
        var anomalous = new IouAnomalous();
        var normal = new IouNormal();
        for (int i = 0; i < images.Count; i++)
        {
            if (images[i].IsAnomalous) anomalous.Update(overlaps[i].Intersection, overlaps[i].Union);
            else normal.Update(overlaps[i].Empty);
        }
        return (anomalous.ComputeMean(), anomalous.ComputeCumulative(), normal.Compute());
    }

    private static float Max(ReadOnlySpan<float> scores)
    {
        float max = float.NegativeInfinity;
        foreach (var s in scores)
            if (s > max) max = s;
        return max;
    }

    /// <summary>The double with the float's shortest decimal form (0.3f reports as 0.3, and thresholds the same floats).</summary>
    private static double ShortestDouble(float value) =>
        double.Parse(value.ToString("R", System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// The two key arrays of the radix sort (8 bytes per pixel each), kept across categories so that each category
    /// reuses warm memory instead of faulting in fresh pages; grown when a larger category comes.
    /// </summary>
    internal sealed class KeyBuffers
    {
        private ulong[] _keys = [], _buffer = [];

        public (ulong[] Keys, ulong[] Buffer) Rent(int count)
        {
            if (_keys.Length < count)
            {
                _keys = _buffer = []; // let the smaller pair go before allocating the larger one
                _keys = GC.AllocateUninitializedArray<ulong>(count);
                _buffer = GC.AllocateUninitializedArray<ulong>(count);
            }
            return (_keys, _buffer);
        }
    }
}
