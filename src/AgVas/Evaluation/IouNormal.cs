namespace AgVas.Evaluation;

/// <summary>
/// IoU_nor (docs/design.md §9): on normal images, 1 if the predicted mask is empty, else 0, averaged over the images —
/// how often a normal image is rejected. Undefined (null) without normal images.
/// </summary>
public sealed class IouNormal
{
    private long _images, _empty;

    public void Update(bool predictedEmpty)
    {
        _images++;
        if (predictedEmpty) _empty++;
    }

    public double? Compute() => _images > 0 ? (double)_empty / _images : null;

    /// <summary>Whether a predicted mask has no positive pixel.</summary>
    public static bool IsEmpty(ReadOnlySpan<bool> predicted) => !predicted.Contains(true);

    /// <summary>Whether no score reaches the threshold (the mask <c>score &gt;= threshold</c> is empty).</summary>
    public static bool IsEmpty(ReadOnlySpan<float> scores, float threshold)
    {
        foreach (var s in scores)
            if (s >= threshold) return false;
        return true;
    }
}
