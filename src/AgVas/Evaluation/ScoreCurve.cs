namespace AgVas.Evaluation;

/// <summary>
/// One point of the threshold sweep: everything scored at or above <see cref="Threshold"/> is predicted anomalous.
/// Points come in decreasing threshold order, one per distinct score (tied scores form one threshold, as in
/// scikit-learn), with cumulative counts.
/// </summary>
/// <param name="Threshold">The score; pixels with score &gt;= it are positive.</param>
/// <param name="TruePositives">Anomalous pixels with score &gt;= threshold.</param>
/// <param name="FalsePositives">Normal pixels with score &gt;= threshold.</param>
/// <param name="RegionOverlap">Σ over ground-truth regions of the fraction of the region at or above threshold (for PRO).</param>
public readonly record struct CurveStep(float Threshold, long TruePositives, long FalsePositives, double RegionOverlap);

/// <summary>Totals of the pooled pixels behind a curve.</summary>
/// <param name="Positives">Anomalous pixels.</param>
/// <param name="Negatives">Normal pixels.</param>
/// <param name="Regions">Connected ground-truth regions (8-connectivity), over all images.</param>
public readonly record struct CurveTotals(long Positives, long Negatives, long Regions);

/// <summary>A metric that accumulates the threshold sweep of a <see cref="ScoreRanking"/> block by block.</summary>
public interface ICurveMetric
{
    /// <summary>Consumes the next points of the sweep, in decreasing threshold order.</summary>
    void Update(ReadOnlySpan<CurveStep> steps);
}
