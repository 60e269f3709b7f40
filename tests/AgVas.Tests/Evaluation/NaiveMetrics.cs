using AgVas.Evaluation;

namespace AgVas.Tests.Evaluation;

/// <summary>
/// A deliberately slow, independent implementation of the docs/design.md §9 metrics for property tests: brute force over every
/// distinct threshold, pairwise AUROC (Mann-Whitney with half credit for ties), flood-fill 8-connected regions.
/// </summary>
internal static class NaiveMetrics
{
    public static MetricValues Compute(IReadOnlyList<EvaluationImage> images, IouSource source, double fprLimit = 0.3)
    {
        var scores = images.SelectMany(i => i.Scores.ToArray()).ToArray();
        var truth = images.SelectMany(i => i.HasGroundTruth ? i.GroundTruth.ToArray() : new bool[i.Scores.Length]).ToArray();
        var regions = new List<int[]>(); // pixel indices (pooled) of each region
        int offset = 0;
        foreach (var image in images)
        {
            if (image.HasGroundTruth) regions.AddRange(FloodFill(image.GroundTruth.ToArray(), image.Width, image.Height).Select(r => r.Select(p => p + offset).ToArray()));
            offset += image.Scores.Length;
        }
        long positives = truth.LongCount(t => t), negatives = truth.Length - positives;
        var thresholds = scores.Distinct().OrderByDescending(s => s).ToArray();

        double? ap = null, aupro = null;
        (double F1, float Threshold)? f1 = null;
        if (positives > 0)
        {
            double sum = 0, bestF1 = -1;
            long prevTp = 0;
            float bestThreshold = 0;
            foreach (var t in thresholds)
            {
                long tp = 0, fp = 0;
                for (int i = 0; i < scores.Length; i++)
                    if (scores[i] >= t) { if (truth[i]) tp++; else fp++; }
                sum += (double)(tp - prevTp) / positives * tp / (tp + fp);
                prevTp = tp;
                double f = 2.0 * tp / (tp + fp + positives);
                if (f >= bestF1) { bestF1 = f; bestThreshold = t; }
            }
            ap = sum;
            f1 = (bestF1, bestThreshold);
        }
        if (regions.Count > 0 && negatives > 0)
        {
            var xs = new List<double> { 0 };
            var ys = new List<double> { 0 };
            foreach (var t in thresholds)
            {
                xs.Add(Enumerable.Range(0, scores.Length).Count(i => !truth[i] && scores[i] >= t) / (double)negatives);
                ys.Add(regions.Average(r => r.Count(p => scores[p] >= t) / (double)r.Length));
            }
            xs.Add(1);
            ys.Add(1);
            double area = 0;
            for (int k = 1; k < xs.Count; k++)
            {
                if (xs[k] <= fprLimit) { area += (xs[k] - xs[k - 1]) * (ys[k] + ys[k - 1]) / 2; continue; }
                double y = ys[k - 1] + (ys[k] - ys[k - 1]) * (fprLimit - xs[k - 1]) / (xs[k] - xs[k - 1]);
                area += (fprLimit - xs[k - 1]) * (y + ys[k - 1]) / 2;
                break;
            }
            aupro = area / fprLimit;
        }

        double? iouAno = null, iouCum = null, iouNor = null;
        if (source == IouSource.PredictedMasks || f1 is not null)
        {
            var ious = new List<double>();
            long inter = 0, union = 0;
            var normal = new List<double>();
            foreach (var image in images)
            {
                var pred = source == IouSource.PredictedMasks ? image.PredictedMask.ToArray() : image.Scores.ToArray().Select(s => s >= f1!.Value.Threshold).ToArray();
                var gt = image.HasGroundTruth ? image.GroundTruth.ToArray() : new bool[pred.Length];
                if (image.IsAnomalous)
                {
                    long i = pred.Zip(gt).Count(p => p.First && p.Second), u = pred.Zip(gt).Count(p => p.First || p.Second);
                    ious.Add(u == 0 ? 1 : (double)i / u);
                    inter += i;
                    union += u;
                }
                else normal.Add(pred.Any(p => p) ? 0 : 1);
            }
            if (ious.Count > 0) { iouAno = ious.Average(); iouCum = union == 0 ? 1 : (double)inter / union; }
            if (normal.Count > 0) iouNor = normal.Average();
        }

        var maxima = images.Select(i => i.Scores.ToArray().Max()).ToArray();
        var labels = images.Select(i => i.IsAnomalous).ToArray();
        return new MetricValues(ap, PairwiseAuroc(scores, truth), f1?.F1, f1?.Threshold, aupro, iouAno, iouCum, iouNor,
            MetricValues.AverageOf(iouAno, iouNor), PairwiseAuroc(maxima, labels), StepAp(maxima, labels));
    }

    public static double? PairwiseAuroc(float[] scores, bool[] labels)
    {
        var pos = scores.Where((_, i) => labels[i]).ToArray();
        var neg = scores.Where((_, i) => !labels[i]).ToArray();
        if (pos.Length == 0 || neg.Length == 0) return null;
        double wins = 0;
        foreach (var p in pos)
            foreach (var n in neg)
                wins += p > n ? 1 : p == n ? 0.5 : 0;
        return wins / pos.Length / neg.Length;
    }

    public static double? StepAp(float[] scores, bool[] labels)
    {
        long positives = labels.LongCount(l => l);
        if (positives == 0) return null;
        double sum = 0;
        long prevTp = 0;
        foreach (var t in scores.Distinct().OrderByDescending(s => s))
        {
            long tp = scores.Where((s, i) => s >= t && labels[i]).LongCount(), all = scores.LongCount(s => s >= t);
            sum += (double)(tp - prevTp) / positives * tp / all;
            prevTp = tp;
        }
        return sum;
    }

    public static List<int[]> FloodFill(bool[] mask, int width, int height)
    {
        var seen = new bool[mask.Length];
        var regions = new List<int[]>();
        for (int start = 0; start < mask.Length; start++)
        {
            if (!mask[start] || seen[start]) continue;
            var region = new List<int>();
            var queue = new Queue<int>([start]);
            seen[start] = true;
            while (queue.Count > 0)
            {
                int p = queue.Dequeue();
                region.Add(p);
                int y = p / width, x = p % width;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int ny = y + dy, nx = x + dx, q = ny * width + nx;
                        if (ny < 0 || ny >= height || nx < 0 || nx >= width || !mask[q] || seen[q]) continue;
                        seen[q] = true;
                        queue.Enqueue(q);
                    }
            }
            regions.Add(region.ToArray());
        }
        return regions;
    }
}
