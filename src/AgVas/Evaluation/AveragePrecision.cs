namespace AgVas.Evaluation;

/// <summary>
/// Average precision (docs/design.md §9): the step sum Σ (R_n − R_{n−1}) P_n over decreasing thresholds, exactly
/// scikit-learn's <c>average_precision_score</c> (no interpolation). Undefined (null) without positives.
/// </summary>
public sealed class AveragePrecision(CurveTotals totals) : ICurveMetric
{
    private long _previousTp;
    private double _sum;

    public void Update(ReadOnlySpan<CurveStep> steps)
    {
        foreach (ref readonly var s in steps)
        {
            if (s.TruePositives == _previousTp) continue;
            _sum += (s.TruePositives - _previousTp) * ((double)s.TruePositives / (s.TruePositives + s.FalsePositives));
            _previousTp = s.TruePositives;
        }
    }

    public double? Compute() => totals.Positives > 0 ? _sum / totals.Positives : null;

    /// <summary>AP of scores against binary labels.</summary>
    public static double? Compute(ReadOnlySpan<float> scores, ReadOnlySpan<bool> labels)
    {
        var ranking = ScoreRanking.FromScores(scores, labels);
        var metric = new AveragePrecision(ranking.Totals);
        ranking.Sweep(metric);
        return metric.Compute();
    }
}
