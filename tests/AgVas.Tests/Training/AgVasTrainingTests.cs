using AgVas.Data;
using AgVas.Inference;
using AgVas.Text;
using Xunit.Abstractions;
using AgVas.Training;
using TorchSharp;

namespace AgVas.Tests.Training;

/// <summary>The real model in the loop: a short run of the tiny preset on synthesized Anomaly-Seg lowers the loss, and
/// testing the result beats the untrained model; a model directory written by training loads for prediction.</summary>
[Collection(SerialTrainingCollection.Name)]
public sealed class AgVasTrainingTests(ITestOutputHelper output) : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("agvas-tiny-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static readonly PredictorOptions Short = new() { MaxNewTokens = 8 };

    [Fact]
    public void ShortTinyRunLowersTheLossAndBeatsTheUntrainedModel()
    {
        // One pooled category: the synthesized textures would otherwise make categories of one or two images.
        var test = TrainingSetup.Synthesize(new SynthSourceConfig { Count = 8, Size = 64, NormalRatio = 0.25, SeedOffset = 1000 }, dir, 0, Path.Combine(dir, "test"))
            .Select(s => s with { Category = "synth" }).ToList();
        var config = new TrainingConfig
        {
            Data = new DataSection { Sources = [new DataSourceConfig { Synth = new SynthSourceConfig { Count = 48, Size = 64, NormalRatio = 0.25 } }] },
            Optim = new OptimSection { Lr = 2e-3, WarmupSteps = 5, BatchSize = 4 },
            Output = new OutputSection { CheckpointEvery = 0 },
            Steps = 150,
        };
        var run = Path.Combine(dir, "run");
        var data = TrainingSetup.Mixture(config, dir, run);

        TestResult Score(AgVasTrainingModel model, string name)
        {
            using var segmenter = new AnomalySegmenter(model, ownsModel: false);
            return ModelTester.Run(segmenter, test, Path.Combine(dir, name), InstructionType.DirectSegmentation);
        }

        using var untrained = AgVasTrainingModel.Create("tiny", 0, Short);
        var before = Score(untrained, "before").Report.Mean;
        using var model = AgVasTrainingModel.Create("tiny", 0, Short);
        var result = new Trainer(config, model, data, run, options: new TrainerOptions { PeakFlops = 1e10 }).Run(resume: false);
        var steps = TrainingLog.ReadSteps(Path.Combine(run, TrainingLog.FileName));
        double early = steps.Take(5).Average(s => s.Loss.Total), late = steps.TakeLast(5).Average(s => s.Loss.Total);
        var after = Score(model, "after").Report.Mean;
        output.WriteLine($"loss {early:F3} → {late:F3}; before {before}; after {after}");
        Assert.True(late < 0.8 * early, $"loss {early:F3} → {late:F3}");
        Assert.True(after.Average > before.Average + 0.2, $"Average {before.Average:F3} → {after.Average:F3}");
        Assert.True(after.Ap > before.Ap + 0.1, $"AP {before.Ap:F3} → {after.Ap:F3}; AUROC {before.Auroc:F3} → {after.Auroc:F3}; Average {before.Average:F3} → {after.Average:F3}");

        // The final directory is what predict/segment/test load.
        using var loaded = AgVasTrainingModel.Load(result.FinalModelDir, Short);
        using var segmenter = new AnomalySegmenter(loaded, ownsModel: false);
        var image = ImageIO.LoadRgb(test[0].ImagePath);
        var p = segmenter.Segment(image);
        Assert.Equal((image.Width, image.Height), (p.Width, p.Height));
        Assert.Equal(model.Predict(image, p.Mode).Map, p.Map);
    }

    [Fact]
    public void TrainableParametersAreTheHeadsAdaptersAndAnchorRows()
    {
        using var model = AgVasTrainingModel.Create("tiny", 0);
        var names = model.TrainableParameters().Select(p => p.Name).ToList();
        var all = string.Join(", ", names);
        foreach (var part in new[] { "lora", "added_tokens", "spam", "refiner", "agmd" })
            Assert.True(names.Any(n => n.Contains(part, StringComparison.OrdinalIgnoreCase)), $"no {part} among: {all}");
        foreach (var part in new[] { "semantic_encoder", "pixel_encoder", "projector" })
            Assert.False(names.Any(n => n.Contains(part, StringComparison.OrdinalIgnoreCase)), $"{part} among: {all}");
        Assert.True(names.Count < model.Model.named_parameters().Count());
    }

    [Fact]
    public void ATrainingStepOfTheRealModelLeavesNoLiveTensors()
    {
        var config = new TrainingConfig
        {
            Data = new DataSection { Sources = [new DataSourceConfig { Synth = new SynthSourceConfig { Count = 4, Size = 48 } }] },
            Optim = new OptimSection { BatchSize = 1, WarmupSteps = 1 },
            Output = new OutputSection { CheckpointEvery = 1 },
            Steps = 1,
        };
        var data = TrainingSetup.Mixture(config, dir, Path.Combine(dir, "a"));
        using var model = AgVasTrainingModel.Create("tiny", 0, Short);
        new Trainer(config, model, data, Path.Combine(dir, "a"), options: new TrainerOptions { PeakFlops = 1e10, Plot = false }).Run(false);
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        new Trainer(config, model, data, Path.Combine(dir, "b"), options: new TrainerOptions { PeakFlops = 1e10, Plot = false }).Run(false);
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
