using System.CommandLine;
using System.Text.Json;
using AgVas.Cli.Commands;
using AgVas.Data;
using AgVas.Evaluation;

namespace AgVas.Tests.Evaluation;

/// <summary><c>agvas eval</c> invoked in-process on generated datasets: the output schema and the error contract.</summary>
public class EvalCommandTests
{
    private static readonly SyntheticEvaluationSetOptions Set = new() { Categories = 3, ImagesPerCategory = 4, Width = 20, Height = 16, OddCategoryMapDownscale = 2, WritePredictedMasks = false };

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var root = new RootCommand();
        root.Subcommands.Add(EvalCommand.Create());
        var output = new StringWriter();
        var error = new StringWriter();
        int code = root.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void WritesMetricsJsonWithTheExactSchema()
    {
        using var dir = new TempDir();
        var samples = SyntheticEvaluationSet.Write(dir["data"], dir["pred"], Set);
        var (code, output, error) = Run("eval", "--data", dir["data/manifest.csv"], "--pred", dir["pred"], "--resize-maps", "--out", dir["out"]);
        Assert.True(code == 0, error);
        Assert.Equal("", error);
        Assert.Contains("ORACLE", output);
        Assert.Contains("category_02", output);

        using var json = JsonDocument.Parse(File.ReadAllText(dir["out/metrics.json"]));
        var top = json.RootElement;
        Assert.Equal(["categories", "mean"], top.EnumerateObject().Select(p => p.Name));
        string[] metricKeys = ["ap", "auroc", "f1_max", "f1_threshold", "aupro", "iou_ano", "iou_ano_cumulative", "iou_nor", "average", "image_auroc", "image_ap"];
        Assert.Equal(["category_00", "category_01", "category_02"], top.GetProperty("categories").EnumerateObject().Select(p => p.Name));
        var expected = new Evaluator().Evaluate(samples, new PredictionDirectory(dir["pred"], resizeMaps: true));
        foreach (var (category, i) in top.GetProperty("categories").EnumerateObject().Select((c, i) => (c, i)))
        {
            Assert.Equal(["n_images", "n_anomalous", "n_normal", .. metricKeys], category.Value.EnumerateObject().Select(p => p.Name));
            Assert.Equal(4, category.Value.GetProperty("n_images").GetInt32());
            Assert.Equal(4, category.Value.GetProperty("n_anomalous").GetInt32() + category.Value.GetProperty("n_normal").GetInt32());
            for (int k = 0; k < metricKeys.Length; k++)
                Assert.Equal(expected.Categories[i].Metrics.Values[k], category.Value.GetProperty(metricKeys[k]).GetDouble());
            AssertFractions(category.Value, metricKeys);
        }
        Assert.Equal(metricKeys, top.GetProperty("mean").EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Null, top.GetProperty("mean").GetProperty("f1_threshold").ValueKind);
        AssertFractions(top.GetProperty("mean"), metricKeys);

        var csv = File.ReadAllLines(dir["out/metrics.csv"]);
        Assert.Equal("category,n_images,n_anomalous,n_normal," + string.Join(",", metricKeys), csv[0]);
        Assert.Equal(5, csv.Length);
        Assert.StartsWith("mean,12,", csv[4]);
        Assert.Contains("ORACLE", File.ReadAllText(dir["out/metrics.md"]));
    }

    private static void AssertFractions(JsonElement metrics, string[] keys)
    {
        foreach (var key in keys.Where(k => k != "f1_threshold"))
        {
            var v = metrics.GetProperty(key);
            if (v.ValueKind == JsonValueKind.Null) continue;
            Assert.InRange(v.GetDouble(), 0.0, 1.0);
        }
    }

    [Fact]
    public void PredictedMasksAreUsedWhenPresent()
    {
        using var dir = new TempDir();
        SyntheticEvaluationSet.Write(dir["data"], dir["pred"], Set with { WritePredictedMasks = true });
        var (code, output, error) = Run("eval", "--data", dir["data/manifest.csv"], "--pred", dir["pred"], "--resize-maps");
        Assert.True(code == 0, error);
        Assert.DoesNotContain("ORACLE", output);
        Assert.Contains("predicted masks", output);
        Assert.Contains("no --out given", output);
    }

    public static IEnumerable<object[]> BadInputs() =>
    [
        ["missing prediction", (Action<string>)(pred => File.Delete(Path.Combine(pred, "category_01/test/defect/002.npy"))), "missing prediction maps for 1 image(s): category_01/test/defect/002.npy"],
        ["wrong-size map", (Action<string>)(pred => Npy.Write(Path.Combine(pred, "category_00/test/defect/003.npy"), NpyArray.FromSingle(new float[2 * 16 * 20], 2, 16, 20))), "category_00/test/defect/003.npy: score map has shape (2, 16, 20)"],
        ["corrupt npy", (Action<string>)(pred => File.WriteAllText(Path.Combine(pred, "category_02/test/good/000.npy"), "not numpy")), "category_02/test/good/000.npy: not a .npy file"],
        ["missing prediction directory", (Action<string>)(pred => Directory.Delete(pred, true)), "prediction directory not found"],
    ];

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInputsGiveOneLineErrorsNamingTheFile(string what, Action<string> breakIt, string expected)
    {
        using var dir = new TempDir();
        SyntheticEvaluationSet.Write(dir["data"], dir["pred"], Set);
        breakIt(dir["pred"]);
        var (code, output, error) = Run("eval", "--data", dir["data/manifest.csv"], "--pred", dir["pred"], "--resize-maps", "--out", dir["out"]);
        Assert.NotEqual(0, code);
        Assert.StartsWith("error: ", error);
        Assert.Contains(expected, error);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.False(File.Exists(dir["out/metrics.json"]), what);
        Assert.Equal("", output);
    }

    [Fact]
    public void GroupMeansAreTheUnweightedMeansOfTheirCategoriesWithCounts()
    {
        using var dir = new TempDir();
        var samples = SyntheticEvaluationSet.Write(dir["data"], dir["pred"], Set);
        var (code, output, error) = Run("eval", "--data", dir["data/manifest.csv"], "--pred", dir["pred"], "--resize-maps", "--out", dir["out"],
            "--group", "first=category_00,category_01", "--group", "last=category_02");
        Assert.True(code == 0, error);
        Assert.Contains("mean (first)", output);

        var expected = new Evaluator().Evaluate(samples, new PredictionDirectory(dir["pred"], resizeMaps: true));
        using var json = JsonDocument.Parse(File.ReadAllText(dir["out/metrics.json"]));
        var groups = json.RootElement.GetProperty("groups");
        Assert.Equal(["first", "last"], groups.EnumerateObject().Select(p => p.Name));
        var first = groups.GetProperty("first");
        Assert.Equal(["category_00", "category_01"], first.GetProperty("categories").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(8, first.GetProperty("n_images").GetInt32());
        Assert.Equal(expected.Categories[0].Anomalous + expected.Categories[1].Anomalous, first.GetProperty("n_anomalous").GetInt32());
        double ap = (expected.Categories[0].Metrics.Ap!.Value + expected.Categories[1].Metrics.Ap!.Value) / 2;
        Assert.Equal(ap, first.GetProperty("ap").GetDouble(), 12);
        Assert.Equal(expected.Categories[2].Metrics.Auroc!.Value, groups.GetProperty("last").GetProperty("auroc").GetDouble(), 12);

        var csv = File.ReadAllLines(dir["out/metrics.csv"]);
        Assert.StartsWith("group:first,8,", csv[5]);
        Assert.StartsWith("group:last,4,", csv[6]);
        Assert.Contains("| **mean (last)**: category_02 | 4 (", File.ReadAllText(dir["out/metrics.md"]));
    }

    [Theory]
    [InlineData("nope=category_00,category_09", "--group nope: no category 'category_09'")]
    [InlineData("noequals", "expected name=category")]
    public void BadGroupsFailBeforeAnythingIsWritten(string group, string expected)
    {
        using var dir = new TempDir();
        SyntheticEvaluationSet.Write(dir["data"], dir["pred"], Set);
        var (code, _, error) = Run("eval", "--data", dir["data/manifest.csv"], "--pred", dir["pred"], "--resize-maps", "--out", dir["out"], "--group", group);
        Assert.Equal(1, code);
        Assert.Contains(expected, error);
        Assert.Contains("manifest.csv", error);
        Assert.False(Directory.Exists(dir["out"]));
    }

    /// <summary>A map of another size than its image — downscaled, transposed or 1x1 — is refused naming the file and both
    /// sizes, unless --resize-maps; nothing is written.</summary>
    [Theory]
    [InlineData("downscaled")]
    [InlineData("transposed")]
    [InlineData("1x1")]
    public void AWrongShapeMapIsRefusedNamingTheFileUnlessResizeMaps(string kind)
    {
        using var dir = new TempDir();
        var samples = SyntheticEvaluationSet.Write(dir["data"], dir["pred"], Set with { OddCategoryMapDownscale = 1 });
        var sample = samples[5];
        var path = new PredictionDirectory(dir["pred"]).MapPath(sample);
        var map = Npy.Read(path);
        Assert.Equal([16, 20], map.Shape);
        var bad = kind switch
        {
            "downscaled" => NpyArray.FromSingle(new float[8 * 10], 8, 10),
            "transposed" => NpyArray.FromSingle(map.ToSingle(), 20, 16),
            _ => NpyArray.FromSingle([0.5f], 1, 1),
        };
        Npy.Write(path, bad);
        var (code, _, error) = Run("eval", "--data", dir["data/manifest.csv"], "--pred", dir["pred"], "--out", dir["out"]);
        Assert.Equal(1, code);
        Assert.Contains(path, error);
        Assert.Contains($"is {bad.Shape[1]}x{bad.Shape[0]} (W x H) but its image", error);
        Assert.Contains("20x16", error);
        Assert.Contains("--resize-maps", error);
        Assert.False(Directory.Exists(dir["out"]));
        (code, _, error) = Run("eval", "--data", dir["data/manifest.csv"], "--pred", dir["pred"], "--out", dir["out"], "--resize-maps");
        Assert.True(code == 0, error);
    }

    [Fact]
    public void AnInterruptedPredictionRunIsRefused()
    {
        using var dir = new TempDir();
        SyntheticEvaluationSet.Write(dir["data"], dir["pred"], Set);
        File.WriteAllText(dir["pred/agvas-run.json"], """{"format": "agvas-predictions/1", "status": "running"}""");
        var (code, _, error) = Run("eval", "--data", dir["data/manifest.csv"], "--pred", dir["pred"], "--resize-maps");
        Assert.Equal(1, code);
        Assert.Contains("agvas-run.json", error);
        Assert.Contains("did not finish", error);
        Assert.Contains("--resume", error);
    }

    [Fact]
    public void MissingOptionsAreAUsageError()
    {
        var (code, _, error) = Run("eval", "--pred", "x");
        Assert.NotEqual(0, code);
        Assert.Contains("--data", error);
    }
}
