namespace AgVas.Evaluation;

/// <summary>
/// Area under the ROC curve by the trapezoidal rule over all distinct thresholds, as scikit-learn's
/// <c>roc_auc_score</c> (ties count one half). Accumulated in exact integers: Σ ΔFP·(TP + TP_prev) / (2·P·N).
/// Undefined (null) unless both classes are present.
/// </summary>
public sealed class Auroc(CurveTotals totals) : ICurveMetric
{
    private long _previousTp, _previousFp;
    private Int128 _twiceArea;

    public void Update(ReadOnlySpan<CurveStep> steps)
    {
        foreach (ref readonly var s in steps)
        {
            _twiceArea += (Int128)(s.FalsePositives - _previousFp) * (s.TruePositives + _previousTp);
            _previousTp = s.TruePositives;
            _previousFp = s.FalsePositives;
        }
    }

    public double? Compute() => totals.Positives > 0 && totals.Negatives > 0
        ? (double)_twiceArea / (2.0 * totals.Positives * totals.Negatives)
        : null;

    /// <summary>AUROC of scores against binary labels.</summary>
    public static double? Compute(ReadOnlySpan<float> scores, ReadOnlySpan<bool> labels)
    {
        var ranking = ScoreRanking.FromScores(scores, labels);
        var metric = new Auroc(ranking.Totals);
        ranking.Sweep(metric);
        return metric.Compute();
    }
}
