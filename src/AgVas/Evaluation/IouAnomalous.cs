namespace AgVas.Evaluation;

/// <summary>
/// IoU_ano (docs/design.md §9): IoU of the binary mask against the ground truth on anomalous images, both as the mean of
/// per-image IoUs (LISA's gIoU style, <see cref="ComputeMean"/>) and cumulative ΣI / ΣU over the images (cIoU style,
/// <see cref="ComputeCumulative"/>). An image whose mask and ground truth are both empty (union 0) counts as IoU 1,
/// as in LISA; a cumulative union of 0 gives 1 likewise. Undefined (null) without anomalous images.
/// </summary>
public sealed class IouAnomalous
{
    private long _images, _intersection, _union;
    private double _sumIou;

    /// <summary>Adds one anomalous image's intersection and union pixel counts.</summary>
    public void Update(long intersection, long union)
    {
        if (intersection < 0 || union < intersection) throw new ArgumentException($"bad counts: intersection {intersection}, union {union}");
        _images++;
        _intersection += intersection;
        _union += union;
        _sumIou += union == 0 ? 1.0 : (double)intersection / union;
    }

    public double? ComputeMean() => _images > 0 ? _sumIou / _images : null;

    public double? ComputeCumulative() => _images > 0 ? _union == 0 ? 1.0 : (double)_intersection / _union : null;

    /// <summary>Intersection and union of a predicted mask and the ground truth.</summary>
    public static (long Intersection, long Union) Overlap(ReadOnlySpan<bool> predicted, ReadOnlySpan<bool> truth)
    {
        if (predicted.Length != truth.Length) throw new ArgumentException($"mask sizes differ: {predicted.Length} vs {truth.Length}");
        long intersection = 0, union = 0;
        for (int i = 0; i < truth.Length; i++)
        {
            bool p = predicted[i], t = truth[i];
            if (p & t) intersection++;
            if (p | t) union++;
        }
        return (intersection, union);
    }

    /// <summary>Intersection and union of the mask <c>score &gt;= threshold</c> and the ground truth.</summary>
    public static (long Intersection, long Union) Overlap(ReadOnlySpan<float> scores, float threshold, ReadOnlySpan<bool> truth)
    {
        if (scores.Length != truth.Length) throw new ArgumentException($"map and mask sizes differ: {scores.Length} vs {truth.Length}");
        long intersection = 0, union = 0;
        for (int i = 0; i < truth.Length; i++)
        {
            bool p = scores[i] >= threshold, t = truth[i];
            if (p & t) intersection++;
            if (p | t) union++;
        }
        return (intersection, union);
    }
}
