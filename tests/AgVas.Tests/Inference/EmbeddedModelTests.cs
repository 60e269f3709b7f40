using System.Text.Json;
using AgVas.Checkpoints;
using AgVas.Data;
using AgVas.Evaluation;
using AgVas.Inference;
using AgVas.Tests.Training;

namespace AgVas.Tests.Inference;

/// <summary>The shipped default model (models/agvas-tiny-resnet) and the README's main command on the committed samples.</summary>
[Collection(SerialTrainingCollection.Name)]
public sealed class EmbeddedModelTests : IDisposable
{
    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    [Fact]
    public void TheDefaultModelIsFoundAndIsTheTinyResNetPresetWithItsCard()
    {
        var located = Path.GetFullPath(AnomalySegmenter.LocateDefaultModel());
        Assert.EndsWith(AnomalySegmenter.DefaultModelPath.Replace('/', Path.DirectorySeparatorChar), located);
        Assert.True(File.Exists(Path.Combine(located, "README.md")), "the model card is missing");
        var config = AgVas.Modeling.AgVasConfig.FromJson(File.ReadAllText(Path.Combine(located, AgVasModelDirectory.ConfigFileName)), "agvas_config.json");
        Assert.Equal(AgVas.Modeling.AgVasConfig.Preset("tiny-resnet").Llm, config.Llm);
        Assert.NotNull(config.Vision.ResNet);
        Assert.True(new FileInfo(Path.Combine(located, AgVasModelDirectory.WeightsFileName)).Length < 40 << 20, "the embedded model must stay a few tens of MiB");
    }

    /// <summary><c>agvas model summary --model models/agvas-tiny-resnet</c> reads our own model directory: the card's 18,137,840
    /// parameters (15,891,328 of them the frozen ResNet-18), the tiny-resnet preset's counts; mixed with another directory it is an error naming the file.</summary>
    [Fact]
    public void SummaryReadsTheDefaultModelDirectory()
    {
        var model = Repository.Path(AnomalySegmenter.DefaultModelPath);
        var counts = AgVas.Cli.Commands.ModelCommand.Summarise("ov-0.5b", [model]);
        Assert.Equal(18_137_840L, counts.Sum(c => c.Value.Total));
        Assert.Equal(AgVas.Cli.Commands.ModelCommand.Summarise("tiny-resnet", []), counts);
        var e = Assert.Throws<CheckpointException>(() => AgVas.Cli.Commands.ModelCommand.Summarise("tiny", [model, dir.Path]));
        Assert.Contains(AgVasModelDirectory.ConfigFileName, e.Message);
    }

    [Fact]
    public void TheReadmesMainCommandSegmentsTheSamplesWithTheDefaultModel()
    {
        var outDir = dir["segment"];
        var (code, output, err) = CliErrorTests.Run("segment", Repository.Path("samples/images"), "--out", outDir);
        Assert.True(code == 0, err);
        var samples = Datasets.Load(Repository.Path("samples/manifest.csv"));
        Assert.Equal(7, samples.Count);
        foreach (var s in samples)
        {
            var name = "images/" + Path.GetRelativePath(Repository.Path("samples/images"), s.ImagePath).Replace('\\', '/');
            var stem = Path.Combine(outDir, Path.ChangeExtension(name, null));
            var image = ImageIO.LoadRgb(s.ImagePath);
            var mask = ImageIO.LoadMask(stem + "_mask.png");
            Assert.Equal((image.Width, image.Height), (mask.Width, mask.Height));
            Assert.Equal(image.Width, ImageIO.LoadRgb(stem + PredictionFiles.OverlaySuffix).Width);
            Assert.Contains(name, output);
        }
        Assert.Contains("wrote 7 result(s)", output);
        var results = File.ReadAllLines(Path.Combine(outDir, PredictionFiles.ResultsFile));
        Assert.Equal(7, results.Length);
        Assert.All(results, l => Assert.DoesNotContain("\"error\"", l));
    }

    [Fact]
    public void TheDefaultModelFindsTheSampleDefects()
    {
        var outDir = dir["test"];
        var (code, _, err) = CliErrorTests.Run("test", "--data", Repository.Path("samples/manifest.csv"), "--out", outDir);
        Assert.True(code == 0, err);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, ReportWriter.JsonFile)));
        var categories = json.RootElement.GetProperty("categories");
        // Figures of the shipped model on these 7 images (model card): regression bars well below them, far above chance.
        foreach (var (category, minAp, minIou) in ExpectedOnSamples)
        {
            var c = categories.GetProperty(category);
            Assert.True(c.GetProperty("ap").GetDouble() >= minAp, $"{category}: AP {c.GetProperty("ap").GetDouble():F3} < {minAp}");
            Assert.True(c.GetProperty("iou_ano").GetDouble() >= minIou, $"{category}: IoU_ano {c.GetProperty("iou_ano").GetDouble():F3} < {minIou}");
        }
        // The normal hazelnut sample gets an empty mask (IoU_nor 1), as the model card shows.
        Assert.Equal(1.0, categories.GetProperty("hazelnut").GetProperty("iou_nor").GetDouble());
    }

    private static readonly (string Category, double MinAp, double MinIouAno)[] ExpectedOnSamples =
    [
        // shipped (mirrored, session 12): hazelnut AP 0.778, IoU_ano 0.404 (pixel rate 0.02); cookie AP 0.038, IoU_ano 0.030 (pixel rate 0.02).
        ("hazelnut", 0.50, 0.12),
        ("cookie", 0.025, 0.007),
    ];
}
