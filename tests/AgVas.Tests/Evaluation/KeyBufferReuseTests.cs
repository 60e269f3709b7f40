using AgVas.Evaluation;

namespace AgVas.Tests.Evaluation;

/// <summary>Regression: the evaluator reuses its key arrays across categories; a smaller category after a larger one
/// must see only its own pixels (it once sorted the whole rented array, stale keys of the earlier category included).</summary>
public class KeyBufferReuseTests
{
    private static EvaluationImage Image(string name, int size, bool anomalous, int seed)
    {
        var rng = new Random(seed);
        var scores = new float[size * size];
        var truth = new bool[size * size];
        for (int i = 0; i < scores.Length; i++) scores[i] = (float)rng.NextDouble();
        if (anomalous)
            for (int y = 1; y < size / 2; y++)
                for (int x = 1; x < size / 2; x++) { truth[y * size + x] = true; scores[y * size + x] += 0.5f; }
        var predicted = scores.Select(s => s > 0.9f).ToArray();
        return new EvaluationImage(name, anomalous, size, size, scores, anomalous ? truth : default, predicted);
    }

    [Fact]
    public void SmallerCategoriesAfterALargerOneScoreAsIfAlone()
    {
        var large = new[] { Image("a0", 32, true, 1), Image("a1", 32, false, 2), Image("a2", 32, true, 3) };
        var normalOnly = new[] { Image("b0", 8, false, 4) };
        var small = new[] { Image("c0", 8, true, 5), Image("c1", 8, false, 6) };
        var shared = new CategoryEvaluator.KeyBuffers();

        var sequence = new[] { ("large", large), ("normal-only", normalOnly), ("small", small) }
            .Select(c => CategoryEvaluator.Evaluate(c.Item1, c.Item2, IouSource.PredictedMasks, 1, Aupro.DefaultFprLimit, shared))
            .ToList();

        Assert.Equal(CategoryEvaluator.Evaluate("large", large, IouSource.PredictedMasks).Metrics, sequence[0].Metrics);
        Assert.Equal(CategoryEvaluator.Evaluate("normal-only", normalOnly, IouSource.PredictedMasks).Metrics, sequence[1].Metrics);
        Assert.Null(sequence[1].Metrics.Ap);
        Assert.Equal(CategoryEvaluator.Evaluate("small", small, IouSource.PredictedMasks).Metrics, sequence[2].Metrics);
        Assert.NotNull(sequence[2].Metrics.Ap);
    }
}
