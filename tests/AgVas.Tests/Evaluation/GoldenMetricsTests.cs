using System.Text.Json;
using AgVas.Evaluation;

namespace AgVas.Tests.Evaluation;

/// <summary>
/// Every metric against golden values computed independently with scikit-learn and scikit-image
/// (tools/golden/eval_metrics.py → Fixtures/Evaluation/metrics_golden.json): ties, categories without normal images
/// or without anomalous pixels, empty masks, several regions per image, oracle thresholds and predicted masks.
/// </summary>
public class GoldenMetricsTests
{
    private static readonly string FixturePath = Path.Combine(AppContext.BaseDirectory, "Fixtures", "Evaluation", "metrics_golden.json");

    public static IEnumerable<object[]> Cases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(FixturePath));
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
            yield return [c.GetProperty("name").GetString()!];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesScikitLearnAndMvtecReference(string caseName)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(FixturePath));
        var c = doc.RootElement.GetProperty("cases").EnumerateArray().Single(e => e.GetProperty("name").GetString() == caseName);
        var source = c.GetProperty("iou_source").GetString() == "masks" ? IouSource.PredictedMasks : IouSource.OracleF1Threshold;
        var categories = c.GetProperty("categories").EnumerateObject().ToDictionary(
            p => p.Name,
            p => (IReadOnlyList<EvaluationImage>)p.Value.EnumerateArray().Select((im, i) => ToImage($"{p.Name}/{i}", im)).ToList());

        var report = new Evaluator().Evaluate(categories, source);

        var expected = c.GetProperty("expected");
        Assert.Equal(expected.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal), report.Categories.Select(r => r.Category));
        foreach (var result in report.Categories)
        {
            var e = expected.GetProperty(result.Category);
            Assert.Equal(e.GetProperty("n_images").GetInt32(), result.Images);
            Assert.Equal(e.GetProperty("n_anomalous").GetInt32(), result.Anomalous);
            Assert.Equal(e.GetProperty("n_normal").GetInt32(), result.Normal);
            for (int k = 0; k < MetricValues.Keys.Count; k++)
            {
                string key = MetricValues.Keys[k];
                var want = e.GetProperty(key);
                var got = result.Metrics.Values[k];
                string where = $"{caseName}/{result.Category}/{key}";
                if (want.ValueKind == JsonValueKind.Null)
                {
                    Assert.True(got is null, $"{where}: expected null, got {got}");
                    continue;
                }
                Assert.True(got is not null, $"{where}: expected {want.GetDouble()}, got null");
                if (key == "f1_threshold")
                    Assert.True((float)want.GetDouble() == (float)got!.Value, $"{where}: expected {want.GetDouble()}, got {got}");
                else
                    Assert.True(Math.Abs(want.GetDouble() - got!.Value) < 1e-9, $"{where}: expected {want.GetDouble():R}, got {got:R}");
            }
        }
    }

    private static EvaluationImage ToImage(string name, JsonElement im)
    {
        int w = im.GetProperty("width").GetInt32(), h = im.GetProperty("height").GetInt32();
        var scores = im.GetProperty("scores").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
        var gt = im.GetProperty("gt").EnumerateArray().Select(v => v.GetInt32() != 0).ToArray();
        bool[]? pred = im.TryGetProperty("pred", out var p) ? p.EnumerateArray().Select(v => v.GetInt32() != 0).ToArray() : null;
        return new EvaluationImage(name, im.GetProperty("anomalous").GetBoolean(), w, h, scores, gt.Contains(true) ? gt : null, pred);
    }
}
