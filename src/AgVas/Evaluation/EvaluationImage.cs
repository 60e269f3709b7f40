namespace AgVas.Evaluation;

/// <summary>
/// One test image as the evaluator consumes it: the continuous score map and the ground truth at the same size,
/// and optionally the predictor's binary mask. All are [H, W], row-major; they may be slices of larger buffers (the
/// file loader packs a category into one array per kind, which keeps 256 KB-a-map allocations off the large-object heap).
/// </summary>
public sealed class EvaluationImage
{
    /// <param name="name">Names the image in errors (e.g. its relative path).</param>
    /// <param name="isAnomalous">The image label.</param>
    /// <param name="width">W.</param>
    /// <param name="height">H.</param>
    /// <param name="scores">The continuous anomaly map, finite values.</param>
    /// <param name="groundTruth">The ground-truth mask; empty (or a null array) for an all-normal image.</param>
    /// <param name="predictedMask">The predictor's binary mask; empty (or a null array) when there is none.</param>
    public EvaluationImage(string name, bool isAnomalous, int width, int height, ReadOnlyMemory<float> scores,
        ReadOnlyMemory<bool> groundTruth = default, ReadOnlyMemory<bool> predictedMask = default)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"{name}: size must be positive, got {width}x{height}");
        int n = checked(width * height);
        if (scores.Length != n) throw new ArgumentException($"{name}: {scores.Length} scores for a {width}x{height} image", nameof(scores));
        if (!groundTruth.IsEmpty && groundTruth.Length != n)
            throw new ArgumentException($"{name}: ground truth has {groundTruth.Length} values for a {width}x{height} image", nameof(groundTruth));
        if (!predictedMask.IsEmpty && predictedMask.Length != n)
            throw new ArgumentException($"{name}: predicted mask has {predictedMask.Length} values for a {width}x{height} image", nameof(predictedMask));
        Name = name;
        IsAnomalous = isAnomalous;
        Width = width;
        Height = height;
        Scores = scores;
        GroundTruth = groundTruth;
        PredictedMask = predictedMask;
    }

    public string Name { get; }
    public bool IsAnomalous { get; }
    public int Width { get; }
    public int Height { get; }
    /// <summary>[H, W] continuous anomaly scores.</summary>
    public ReadOnlyMemory<float> Scores { get; }
    /// <summary>[H, W] ground truth; empty when the image has no anomalous pixel.</summary>
    public ReadOnlyMemory<bool> GroundTruth { get; }
    /// <summary>[H, W] predicted binary mask; empty when none was given.</summary>
    public ReadOnlyMemory<bool> PredictedMask { get; }
    public bool HasGroundTruth => !GroundTruth.IsEmpty;
    public bool HasPredictedMask => !PredictedMask.IsEmpty;
}
