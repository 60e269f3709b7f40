using AgVas.Cli.Commands;
using AgVas.Data;
using AgVas.Evaluation;
using AgVas.Inference;
using AgVas.Tests.Training;
using AgVas.Training;

namespace AgVas.Tests.Inference;

/// <summary>segment / predict / test invoked in-process with a real (untrained tiny) model directory.</summary>
public sealed class CliWithModelTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("agvas-cli-model-").FullName;
    private readonly string model;

    public CliWithModelTests()
    {
        model = Path.Combine(dir, "model");
        using var m = AgVasTrainingModel.Create("tiny", 0);
        m.Save(model);
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void SegmentWritesMaskMapOverlayAndReportsUnreadableImagesWithExitCode3()
    {
        var images = Path.Combine(dir, "images");
        var blobs = new BlobSource(2, 40, 7, normalRatio: 0);
        for (int i = 0; i < 2; i++) ImageIO.SaveRgbPng(blobs.Load(i).Image, Path.Combine(images, $"{i}.png"));
        File.WriteAllBytes(Path.Combine(images, "broken.png"), [1, 2, 3]);
        var outDir = Path.Combine(dir, "out");
        var (code, output, err) = CliErrorTests.Run("segment", images, "--model", model, "--out", outDir, "--mode", "DirectSegmentation");
        Assert.Equal(PredictCommand.ExitSomeFailed, code);
        Assert.Contains("broken.png", err);
        Assert.Contains("images/0.png", output);
        foreach (var stem in new[] { "0", "1" })
        {
            var mask = ImageIO.LoadMask(Path.Combine(outDir, "images", stem + "_mask.png"));
            Assert.Equal((40, 40), (mask.Width, mask.Height));
            Assert.Equal([40, 40], Npy.Read(Path.Combine(outDir, "images", stem + ".npy")).Shape);
            Assert.Equal(40, ImageIO.LoadRgb(Path.Combine(outDir, "images", stem + PredictionFiles.OverlaySuffix)).Width);
        }
        var lines = File.ReadAllLines(Path.Combine(outDir, PredictionFiles.ResultsFile));
        Assert.Equal(3, lines.Length);
        Assert.Single(lines, l => l.Contains("\"error\""));
    }

    [Fact]
    public void TestPredictsAndEvaluatesInOneStep()
    {
        var data = Path.Combine(dir, "data");
        new BlobSource(4, 32, 3).WriteMvtec(data);
        var outDir = Path.Combine(dir, "test");
        var (code, output, err) = CliErrorTests.Run("test", "--model", model, "--data", data, "--out", outDir, "--mode", "DirectSegmentation");
        Assert.True(code == 0, err);
        Assert.Contains("mean", output);
        Assert.True(File.Exists(Path.Combine(outDir, ReportWriter.JsonFile)));
        var samples = Datasets.Load(data);
        var predictions = new PredictionDirectory(Path.Combine(outDir, ModelTester.PredictionsDir));
        Assert.Equal(IouSource.PredictedMasks, predictions.Check(samples));
    }

    [Fact]
    public void ACorruptModelDirectoryIsAClearError()
    {
        var weights = Path.Combine(model, "model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length / 2)]);
        var data = Path.Combine(dir, "data");
        new BlobSource(2, 16, 1).WriteMvtec(data);
        var (code, _, err) = CliErrorTests.Run("predict", "--model", model, "--data", data, "--out", Path.Combine(dir, "pred"));
        Assert.Equal(PredictCommand.ExitError, code);
        Assert.Contains("model.safetensors", err);
        Assert.Single(err.TrimEnd().Split('\n'));
    }
}
