using AgVas.Evaluation;

namespace AgVas.Tests.Evaluation;

/// <summary>Metrics on cases small enough to work out by hand.</summary>
public class AnalyticMetricTests
{
    // scikit-learn's documented example: average_precision_score = 0.8333..., roc_auc_score = 0.75.
    private static readonly float[] SkScores = [0.1f, 0.4f, 0.35f, 0.8f];
    private static readonly bool[] SkLabels = [false, false, true, true];

    [Fact]
    public void ScikitLearnDocumentationExample()
    {
        Assert.Equal(0.8333333333333333, AveragePrecision.Compute(SkScores, SkLabels)!.Value, 15);
        Assert.Equal(0.75, Auroc.Compute(SkScores, SkLabels)!.Value, 15);
        // Thresholds 0.8 (P=1,R=.5 → F1=2/3), 0.4 (P=.5,R=.5), 0.35 (P=2/3,R=1 → F1=0.8), 0.1 (P=.5,R=1).
        var f1 = F1Max.Compute(SkScores, SkLabels)!.Value;
        Assert.Equal(0.8, f1.F1, 15);
        Assert.Equal(0.35f, f1.Threshold);
    }

    [Fact]
    public void AllScoresTiedGivePrevalenceAndHalf()
    {
        var scores = Enumerable.Repeat(0.5f, 10).ToArray();
        var labels = Enumerable.Range(0, 10).Select(i => i < 3).ToArray();
        Assert.Equal(0.3, AveragePrecision.Compute(scores, labels)!.Value, 15);
        Assert.Equal(0.5, Auroc.Compute(scores, labels)!.Value, 15);
        Assert.Equal(2 * 0.3 / 1.3, F1Max.Compute(scores, labels)!.Value.F1, 15);
    }

    [Fact]
    public void F1TiesResolveToTheLowestThreshold()
    {
        // Threshold 3: TP=1, FP=0 → F1 = 2/(1+0+3) = 0.5; threshold 2: 2/7; threshold 1: TP=3, FP=6 → 6/12 = 0.5 too.
        // The lowest threshold wins.
        float[] scores = [3, 2, 2, 2, 1, 1, 1, 1, 1];
        bool[] labels = [true, false, false, false, true, true, false, false, false];
        var f1 = F1Max.Compute(scores, labels)!.Value;
        Assert.Equal(0.5, f1.F1, 15);
        Assert.Equal(1f, f1.Threshold);
    }

    [Fact]
    public void UndefinedMetricsAreNull()
    {
        float[] scores = [0.1f, 0.2f];
        Assert.Null(AveragePrecision.Compute(scores, [false, false]));
        Assert.Null(Auroc.Compute(scores, [false, false]));
        Assert.Null(Auroc.Compute(scores, [true, true]));
        Assert.Null(F1Max.Compute(scores, [false, false]));
        Assert.Equal(1.0, AveragePrecision.Compute(scores, [true, true])!.Value, 15);
    }

    [Fact]
    public void AuproByHand()
    {
        // One 2-pixel region scored 0.9 and 0.5; 10 normal pixels, one at 0.7, the rest at 0.1.
        // Curve: (0,0) → t=0.9 (0, 0.5) → t=0.7 (0.1, 0.5) → t=0.5 (0.1, 1) → t=0.1 (1, 1).
        // Area to 0.3: 0.1·0.5 + 0.2·1 = 0.25 → AUPRO = 0.25 / 0.3.
        var scores = new float[12];
        var gt = new bool[12];
        (scores[0], gt[0]) = (0.9f, true);
        (scores[1], gt[1]) = (0.5f, true);
        scores[2] = 0.7f;
        for (int i = 3; i < 12; i++) scores[i] = 0.1f;
        var image = new EvaluationImage("a", true, 12, 1, scores, gt);
        var m = CategoryEvaluator.Evaluate("c", [image], IouSource.OracleF1Threshold).Metrics;
        Assert.Equal(0.25 / 0.3, m.Aupro!.Value, 12);
    }

    [Fact]
    public void AuproAveragesRegionsNotPixels()
    {
        // Image a (4 x 2): region A = {(0,0)} scored 1; region B = {(0,2), (0,3), (1,3)} scored 0.2.
        // Normals: (0,1) at 0.2, (1,0..2) at 0.5, and image b's 8 pixels at 0: 12 in all.
        float[] scores = [1f, 0.2f, 0.2f, 0.2f, 0.5f, 0.5f, 0.5f, 0.2f];
        bool[] gt = [true, false, true, true, false, false, false, true];
        var a = new EvaluationImage("a", true, 4, 2, scores, gt);
        var b = new EvaluationImage("b", false, 4, 2, new float[8], null);
        var m = CategoryEvaluator.Evaluate("c", [a, b], IouSource.OracleF1Threshold).Metrics;
        // PRO (mean over regions, not pixel recall): t=1 → (0, 0.5); t=0.5 → (3/12, 0.5); t=0.2 → (4/12, 1).
        // Interpolated at 0.3: y = 0.5 + 0.5·(0.3 − 0.25)/(1/12) = 0.8; area = 0.25·0.5 + 0.05·(0.5 + 0.8)/2 = 0.1575.
        Assert.Equal(0.1575 / 0.3, m.Aupro!.Value, 12);
    }

    [Fact]
    public void IouMetricsByHand()
    {
        var iou = new IouAnomalous();
        iou.Update(1, 4);
        iou.Update(3, 4);
        iou.Update(0, 0); // empty mask on empty ground truth: counts as 1
        Assert.Equal((0.25 + 0.75 + 1) / 3, iou.ComputeMean()!.Value, 15);
        Assert.Equal(4.0 / 8, iou.ComputeCumulative()!.Value, 15);
        Assert.Null(new IouAnomalous().ComputeMean());

        var nor = new IouNormal();
        nor.Update(true);
        nor.Update(false);
        nor.Update(true);
        Assert.Equal(2.0 / 3, nor.Compute()!.Value, 15);
        Assert.Null(new IouNormal().Compute());

        Assert.Equal((1L, 3L), IouAnomalous.Overlap([true, true, false, false], [false, true, true, false]));
        Assert.Equal((1L, 2L), IouAnomalous.Overlap([0.9f, 0.4f, 0.6f], 0.5f, [true, false, false]));
        Assert.True(IouNormal.IsEmpty([0.1f, 0.49f], 0.5f));
        Assert.False(IouNormal.IsEmpty([0.1f, 0.5f], 0.5f));
    }

    [Fact]
    public void MeanSkipsNullsAndAverageFollowsTheMeans()
    {
        var a = new MetricValues(0.5, 0.9, 0.6, 0.4, 0.8, 0.4, 0.5, null, null, null, 1.0);
        var b = new MetricValues(0.3, null, 0.4, 0.7, 0.6, 0.2, 0.3, 0.8, 0.5, 0.7, 0.9);
        var mean = MetricValues.MeanOf([a, b]);
        Assert.Equal(0.4, mean.Ap!.Value, 15);
        Assert.Equal(0.9, mean.Auroc!.Value, 15);
        Assert.Null(mean.F1Threshold);
        Assert.Equal(0.8, mean.IouNor!.Value, 15);
        Assert.Equal((0.3 + 0.8) / 2, mean.Average!.Value, 15);
        Assert.Equal(0.7, mean.ImageAuroc!.Value, 15);
        Assert.Null(MetricValues.MeanOf([a with { Ap = null }]).Ap);
    }
}
