using AgVas.Evaluation;
using CsCheck;

namespace AgVas.Tests.Evaluation;

/// <summary>CsCheck properties of the category metrics against a brute-force implementation and invariances.</summary>
public class MetricPropertyTests
{
    /// <summary>A category of 1-5 small images; scores on a coarse grid (many ties), ~1/4 of anomalous images' pixels in the ground truth.</summary>
    private static readonly Gen<EvaluationImage[]> GenCategory =
        Gen.Select(Gen.Int[1, 7], Gen.Int[1, 7], Gen.Bool, Gen.Int[2, 12], (w, h, anomalous, levels) => (w, h, anomalous, levels))
            .SelectMany(t => Gen.Select(Gen.Int[0, t.levels].Array[t.w * t.h], Gen.Int[0, 3].Array[t.w * t.h], Gen.Bool.Array[t.w * t.h],
                (s, g, p) => new EvaluationImage("img", t.anomalous, t.w, t.h,
                    s.Select(v => (float)v / t.levels).ToArray(),
                    t.anomalous ? g.Select(v => v == 0).ToArray() : null,
                    p)))
            .Array[1, 5];

    [Fact]
    public void AllMetricsMatchBruteForce()
    {
        GenCategory.Sample(images =>
        {
            foreach (var source in new[] { IouSource.OracleF1Threshold, IouSource.PredictedMasks })
            {
                var fast = CategoryEvaluator.Evaluate("c", images, source).Metrics;
                var naive = NaiveMetrics.Compute(images, source);
                AssertClose(naive, fast);
            }
        }, iter: 300);
    }

    [Fact]
    public void PerfectMapScoresOne()
    {
        GenCategory.Sample(images =>
        {
            var perfect = images.Select(i => new EvaluationImage(i.Name, i.IsAnomalous, i.Width, i.Height,
                i.Scores.ToArray().Select((s, k) => i.HasGroundTruth && i.GroundTruth.Span[k] ? 0.6f + s / 4 : s / 2).ToArray(), i.GroundTruth)).ToArray();
            var m = CategoryEvaluator.Evaluate("c", perfect, IouSource.OracleF1Threshold).Metrics;
            if (m.Ap is null) return; // no anomalous pixel
            Assert.Equal(1.0, m.Ap!.Value, 12);
            Assert.Equal(1.0, m.F1Max!.Value, 12);
            if (m.Auroc is { } auroc) Assert.Equal(1.0, auroc, 12);
            if (m.Aupro is { } aupro) Assert.Equal(1.0, aupro, 12);
            Assert.Equal(1.0, m.IouAno!.Value, 12);
            if (m.IouNor is { } iouNor) Assert.Equal(1.0, iouNor, 12);
        }, iter: 200);
    }

    [Fact]
    public void InvariantUnderMonotoneTransformExceptThresholds()
    {
        // Scores k/levels become k² + 3k: strictly increasing and exact in float32, so ties are neither made nor broken.
        GenCategory.Sample(images =>
        {
            static float F(float s) { float k = MathF.Round(s * 1000); return k * k + 3 * k; }
            var transformed = images.Select(i => new EvaluationImage(i.Name, i.IsAnomalous, i.Width, i.Height,
                i.Scores.ToArray().Select(F).ToArray(), i.GroundTruth, i.PredictedMask)).ToArray();
            var a = CategoryEvaluator.Evaluate("c", images, IouSource.OracleF1Threshold).Metrics;
            var b = CategoryEvaluator.Evaluate("c", transformed, IouSource.OracleF1Threshold).Metrics;
            Assert.Equal(a with { F1Threshold = null }, b with { F1Threshold = null });
            if (a.F1Threshold is { } t) Assert.Equal(F((float)t), (float)b.F1Threshold!.Value);
        }, iter: 200);
    }

    [Fact]
    public void NegatedScoresMirrorAuroc()
    {
        Gen.Select(Gen.Int[0, 20].Array[2, 60], Gen.Bool.Array[60], (s, l) => (s.Select(v => (float)v).ToArray(), l[..s.Length]))
            .Sample(((float[] Scores, bool[] Labels) t) =>
            {
                var auroc = Auroc.Compute(t.Scores, t.Labels);
                var negated = Auroc.Compute(t.Scores.Select(s => -s).ToArray(), t.Labels);
                if (auroc is null) { Assert.Null(negated); return; }
                Assert.Equal(1 - auroc.Value, negated!.Value, 12);
            }, iter: 300);
    }

    private static void AssertClose(MetricValues want, MetricValues got)
    {
        for (int k = 0; k < MetricValues.Keys.Count; k++)
        {
            var (w, g) = (want.Values[k], got.Values[k]);
            Assert.True(w.HasValue == g.HasValue, $"{MetricValues.Keys[k]}: expected {w?.ToString() ?? "null"}, got {g?.ToString() ?? "null"}");
            if (!w.HasValue) continue;
            if (MetricValues.Keys[k] == "f1_threshold") Assert.True((float)w.Value == (float)g!.Value, $"threshold: expected {w}, got {g}");
            else Assert.True(Math.Abs(w.Value - g!.Value) < 1e-12, $"{MetricValues.Keys[k]}: expected {w:R}, got {g:R}");
        }
    }
}
