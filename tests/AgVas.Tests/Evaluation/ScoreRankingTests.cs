using AgVas.Evaluation;
using CsCheck;

namespace AgVas.Tests.Evaluation;

public class ScoreRankingTests
{
    [Fact]
    public void OrderedBitsPreserveOrderAndMergeSignedZeros()
    {
        Assert.Equal(ScoreRanking.OrderedBits(0f), ScoreRanking.OrderedBits(-0f));
        Gen.Select(Gen.Float, Gen.Float, (a, b) => (a, b)).Sample(t =>
        {
            if (!float.IsFinite(t.a) || !float.IsFinite(t.b)) return;
            Assert.Equal(Math.Sign(t.a.CompareTo(t.b)), Math.Sign(ScoreRanking.OrderedBits(t.a).CompareTo(ScoreRanking.OrderedBits(t.b))));
            Assert.Equal(t.a == 0 ? 0f : t.a, ScoreRanking.FromOrderedBits(ScoreRanking.OrderedBits(t.a)));
        }, iter: 2000);
    }

    [Fact]
    public void SweepEmitsOneStepPerDistinctScoreWithCumulativeCounts()
    {
        float[] scores = [0.5f, -1f, 2f, 0.5f, 0f, -0f, 2f, 3f];
        bool[] labels = [true, false, false, false, true, false, true, false];
        var ranking = ScoreRanking.FromScores(scores, labels);
        var recorder = new Recorder();
        ranking.Sweep(recorder);
        Assert.Equal(new CurveTotals(3, 5, 1), ranking.Totals);
        Assert.Equal([3f, 2f, 0.5f, 0f, -1f], recorder.Steps.Select(s => s.Threshold));
        Assert.Equal([0L, 1, 2, 3, 3], recorder.Steps.Select(s => s.TruePositives));
        Assert.Equal([1L, 2, 3, 4, 5], recorder.Steps.Select(s => s.FalsePositives));
    }

    [Fact]
    public void RadixSortMatchesArraySort()
    {
        Gen.Select(Gen.Float.Array[0, 3000], Gen.UInt[0, 5].Array[3000], (s, r) => (s, r)).Sample(t =>
        {
            var keys = t.s.Where(float.IsFinite).Select((s, i) => ScoreRanking.Pack(s, t.r[i])).ToArray();
            var expected = keys.OrderBy(k => k >> 32).ToArray(); // stable: equal scores keep input order
            var sorted = keys.ToArray();
            var buffer = new ulong[sorted.Length + 3];
            bool inBuffer = RadixSort.SortByHigh32(sorted, buffer, out long zeros, out uint max);
            Assert.Equal(expected, inBuffer ? buffer[..sorted.Length] : sorted);
            Assert.Equal(keys.LongCount(k => (uint)k == 0), zeros);
            Assert.Equal(keys.Length == 0 ? 0u : keys.Max(k => (uint)k), max);
        }, iter: 100);
    }

    [Fact]
    public void LargeBlocksSweepLikeSmallOnes()
    {
        // More distinct scores than one sweep block (4096) exercises the block flush.
        var rng = new Random(3);
        var scores = Enumerable.Range(0, 20_000).Select(_ => (float)rng.NextDouble()).ToArray();
        var labels = scores.Select(s => rng.NextDouble() < s * 0.3).ToArray();
        Assert.Equal(NaiveMetrics.PairwiseAuroc(scores, labels)!.Value, Auroc.Compute(scores, labels)!.Value, 12);
    }

    private sealed class Recorder : ICurveMetric
    {
        public List<CurveStep> Steps { get; } = [];
        public void Update(ReadOnlySpan<CurveStep> steps) => Steps.AddRange(steps.ToArray());
    }
}
