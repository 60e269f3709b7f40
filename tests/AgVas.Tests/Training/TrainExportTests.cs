using AgVas.Checkpoints;
using AgVas.Training;

namespace AgVas.Tests.Training;

/// <summary><c>agvas train export</c>: a checkpoint becomes a model directory holding exactly the weights the run had.</summary>
[Collection(SerialTrainingCollection.Name)]
public sealed class TrainExportTests : IDisposable
{
    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    /// <summary>Trains <paramref name="preset"/> for <paramref name="steps"/> steps on synthetic 64² images, with a checkpoint
    /// at the last step; returns the config file and the run folder.</summary>
    private (string Config, string Run) Train(string name, string preset, int count, int batchSize, int steps)
    {
        var config = dir[$"{name}.yaml"];
        File.WriteAllText(config, $$"""
            model: { preset: {{preset}} }
            data:
              sources:
                - synth: { count: {{count}}, size: 64, normal_ratio: 0.3 }
            optim: { batch_size: {{batchSize}}, warmup_steps: 1 }
            steps: {{steps}}
            output: { checkpoint_every: {{steps}}, validate_every: 0 }
            """);
        var run = dir[$"{name}-run"];
        var (code, _, err) = CliErrorTests.Run("train", "--config", config, "--out", run);
        Assert.True(code == 0, err);
        return (config, run);
    }

    [Fact]
    public void TheLastCheckpointExportsToTheFinalModelsWeights()
    {
        var (config, run) = Train("run", preset: "tiny", count: 6, batchSize: 2, steps: 2);
        var exported = dir["exported"];
        var (code, output, err) = CliErrorTests.Run("train", "export", "--config", config, "--checkpoint", Path.Combine(run, "checkpoints", "step-000002"), "--out", exported);
        Assert.True(code == 0, err);
        Assert.Contains("step 2", output);

        using var want = TensorSource.Open(Path.Combine(run, "final", AgVasModelDirectory.WeightsFileName));
        using var got = TensorSource.Open(Path.Combine(exported, AgVasModelDirectory.WeightsFileName));
        Assert.Equal(want.Names.Order(), got.Names.Order());
        foreach (var name in want.Names)
        {
            using var a = want.Load(name);
            using var b = got.Load(name);
            Assert.Equal(a.shape, b.shape);
            Assert.True(a.eq(b).all().item<bool>(), $"{name} differs");
        }
        using var loaded = AgVasTrainingModel.Load(exported);
        Assert.Equal(0.5, loaded.Model.Config.Vision.Agmd.SeedThreshold);

        // --threshold / --seed-threshold set the mask rule of the exported model and nothing else; out of range is an error.
        var tuned = dir["tuned"];
        (code, _, err) = CliErrorTests.Run("train", "export", "--config", config, "--checkpoint", Path.Combine(run, "checkpoints", "step-000002"),
            "--out", tuned, "--threshold", "0.3", "--seed-threshold", "0.8");
        Assert.True(code == 0, err);
        using var tunedModel = AgVasTrainingModel.Load(tuned);
        Assert.Equal(0.8, tunedModel.Model.Config.Vision.Agmd.SeedThreshold);
        Assert.Equal(0.3, tunedModel.Model.Config.Vision.Agmd.Threshold);
        var before = loaded.Model.Config;
        var expected = before with { Vision = before.Vision with { Agmd = before.Vision.Agmd with { Threshold = 0.3, SeedThreshold = 0.8 } } };
        Assert.Equal(expected.ToJson(), tunedModel.Model.Config.ToJson());
        (code, _, err) = CliErrorTests.Run("train", "export", "--config", config, "--checkpoint", Path.Combine(run, "checkpoints", "step-000002"),
            "--out", dir["bad"], "--seed-threshold", "0.3");
        Assert.Equal(1, code);
        Assert.Contains("--seed-threshold", err);
        Assert.Contains("Agmd.SeedThreshold", err);
        (code, _, err) = CliErrorTests.Run("train", "export", "--config", config, "--checkpoint", Path.Combine(run, "checkpoints", "step-000002"),
            "--out", dir["bad"], "--threshold", "1.5");
        Assert.Equal(1, code);
        Assert.Contains("Agmd.Threshold", err);
        (code, _, err) = CliErrorTests.Run("train", "export", "--config", config, "--checkpoint", Path.Combine(run, "checkpoints", "step-000002"),
            "--out", dir["bad"], "--scales", "256", "384");
        Assert.Equal(1, code);
        Assert.Contains("--scales", err);
        Assert.Contains("ResNet-backbone models only", err);
        Assert.False(Directory.Exists(dir["bad"]));
    }

    [Fact]
    public void ExportSetsTheInferenceScalesOfAResNetModel()
    {
        var (config, run) = Train("resnet", preset: "tiny-resnet", count: 4, batchSize: 1, steps: 1);
        var checkpoint = Path.Combine(run, "checkpoints", "step-000001");
        var exported = dir["resnet-exported"];
        var (code, _, err) = CliErrorTests.Run("train", "export", "--config", config, "--checkpoint", checkpoint, "--out", exported, "--scales", "256", "320", "--mirror", "true");
        Assert.True(code == 0, err);
        var resnet = AgVasModelDirectory.ReadConfig(exported).Vision.ResNet!;
        Assert.Equal([256, 320], resnet.Scales);
        Assert.Equal(256, resnet.ImageSize);
        Assert.True(resnet.Mirror);
        (code, _, err) = CliErrorTests.Run("train", "export", "--config", config, "--checkpoint", checkpoint, "--out", dir["resnet-plain"]);
        Assert.True(code == 0, err);
        Assert.False(AgVasModelDirectory.ReadConfig(dir["resnet-plain"]).Vision.ResNet!.Mirror);

        // Scales must hold the input size and be multiples of 32; a refused export writes nothing.
        foreach (var (scales, message) in new[] { (new[] { "320", "384" }, "must include ResNet.ImageSize"), (["256", "300"], "not a multiple of 32") })
        {
            (code, _, err) = CliErrorTests.Run(["train", "export", "--config", config, "--checkpoint", checkpoint, "--out", dir["resnet-bad"], "--scales", .. scales]);
            Assert.Equal(1, code);
            Assert.Contains("ResNet.Scales", err);
            Assert.Contains(message, err);
            Assert.False(Directory.Exists(dir["resnet-bad"]));
        }
    }

    [Fact]
    public void AResNetBaseTrainsAtModelInputSizeWithItsInferenceSettingsOff()
    {
        // A shipped ResNet model runs at several scales, mirrored; model.input_size continues it at one size, plain.
        var (config, run) = Train("resnet", preset: "tiny-resnet", count: 4, batchSize: 1, steps: 1);
        var shipped = dir["resnet-shipped"];
        var (code, _, err) = CliErrorTests.Run("train", "export", "--config", config, "--checkpoint", Path.Combine(run, "checkpoints", "step-000001"),
            "--out", shipped, "--scales", "256", "320", "--mirror", "true");
        Assert.True(code == 0, err);
        var next = dir["next.yaml"];
        File.WriteAllText(next, $$"""
            model: { base: resnet-shipped, input_size: 320, trainable: all }
            data:
              sources:
                - synth: { count: 2, size: 64, normal_ratio: 0.5 }
            optim: { batch_size: 1, warmup_steps: 1 }
            steps: 1
            output: { checkpoint_every: 1, validate_every: 0 }
            """);
        (code, _, err) = CliErrorTests.Run("train", "--config", next, "--out", dir["next-run"]);
        Assert.True(code == 0, err);
        var trained = AgVasModelDirectory.ReadConfig(Path.Combine(dir["next-run"], "final")).Vision;
        Assert.Equal(320, trained.ResNet!.ImageSize);
        Assert.Null(trained.ResNet.Scales);
        Assert.False(trained.ResNet.Mirror);
        Assert.Equal(80, trained.Spam.PixelGridSize);
        Assert.Equal(256, AgVasModelDirectory.ReadConfig(shipped).Vision.ResNet!.ImageSize);
    }

    [Fact]
    public void AMissingCheckpointIsAnErrorNamingIt()
    {
        var config = dir["run.yaml"];
        File.WriteAllText(config, "data: { sources: [ { synth: { count: 4, size: 64 } } ] }\n");
        var (code, _, err) = CliErrorTests.Run("train", "export", "--config", config, "--checkpoint", dir["nope"], "--out", dir["m"]);
        Assert.Equal(1, code);
        Assert.Contains("state.json", err);
        Assert.False(File.Exists(Path.Combine(dir.Path, "m", AgVasModelDirectory.WeightsFileName)));
    }
}
