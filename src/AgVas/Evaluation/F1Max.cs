namespace AgVas.Evaluation;

/// <summary>
/// F1-max (docs/design.md §9): the maximum of 2PR/(P+R) over the thresholds of the precision-recall curve (those of
/// scikit-learn's <c>precision_recall_curve</c>: every distinct score), and the threshold that attains it.
/// F1 = 2·TP / (TP + FP + positives) is compared exactly in integers; among equal maxima the lowest threshold wins
/// (what <c>argmax</c> over scikit-learn's increasing thresholds returns). Predicted positive means score &gt;= threshold.
/// Undefined (null) without positives.
/// </summary>
public sealed class F1Max(CurveTotals totals) : ICurveMetric
{
    private long _bestNumerator = -1, _bestDenominator = 1;
    private float _bestThreshold;

    public void Update(ReadOnlySpan<CurveStep> steps)
    {
        long positives = totals.Positives;
        foreach (ref readonly var s in steps)
        {
            long numerator = 2 * s.TruePositives, denominator = s.TruePositives + s.FalsePositives + positives;
            if ((Int128)numerator * _bestDenominator >= (Int128)_bestNumerator * denominator)
            {
                _bestNumerator = numerator;
                _bestDenominator = denominator;
                _bestThreshold = s.Threshold;
            }
        }
    }

    /// <summary>The maximum F1 and its threshold, or null without positives.</summary>
    public (double F1, float Threshold)? Compute() => totals.Positives > 0 && _bestNumerator >= 0
        ? ((double)_bestNumerator / _bestDenominator, _bestThreshold)
        : null;

    /// <summary>F1-max of scores against binary labels.</summary>
    public static (double F1, float Threshold)? Compute(ReadOnlySpan<float> scores, ReadOnlySpan<bool> labels)
    {
        var ranking = ScoreRanking.FromScores(scores, labels);
        var metric = new F1Max(ranking.Totals);
        ranking.Sweep(metric);
        return metric.Compute();
    }
}
