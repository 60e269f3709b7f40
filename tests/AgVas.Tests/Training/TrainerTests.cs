using AgVas.Checkpoints;
using AgVas.Modeling;
using AgVas.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Tests.Training;

[Collection(SerialTrainingCollection.Name)]
public sealed class TrainerTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), "agvas-train-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

    internal static TrainingConfig Config(int steps, int checkpointEvery, CheckpointContent save = CheckpointContent.Trainable, double lr = 0.02, int accum = 2) => new()
    {
        Steps = steps,
        Seed = 11,
        Optim = new OptimSection { Lr = lr, WarmupSteps = 2, BatchSize = 4, GradAccum = accum, WeightDecay = 0.01 },
        Output = new OutputSection { CheckpointEvery = checkpointEvery, KeepCheckpoints = 2, Save = save },
        Data = new DataSection { Sources = [new DataSourceConfig { Name = "blobs" }] },
    };

    /// <summary>64 blob images written once per test run as an MVTec category, in the anomaly_seg pool.</summary>
    internal static DataMixture Blobs(TrainingConfig config) =>
        TrainingSetup.Mixture(config with { Data = config.Data with { Sources = [new DataSourceConfig { Path = BlobDataset.Value }] } }, "/", "/nonexistent-run");

    /// <summary>Written once per test process, deleted when the process exits (it used to stay in the temp folder).</summary>
    private static readonly Lazy<string> BlobDataset = new(() =>
    {
        var root = Directory.CreateTempSubdirectory("agvas-blobs-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(root, recursive: true); }
            catch (IOException) { }
        };
        return new BlobSource(64, 48, 5).WriteMvtec(root);
    });

    private static TrainingResult Train(TrainingConfig config, TinyConvSegmenter model, string run, bool resume = false,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancel = default) =>
        new Trainer(config, model, Blobs(config), run, options: new TrainerOptions { PeakFlops = 1e10, Plot = true }).Run(resume, progress, cancel);

    [Fact]
    public void ShortRunLowersTheLossAndLeavesALoadableModel()
    {
        var config = Config(steps: 30, checkpointEvery: 10, lr: 0.05, accum: 1);
        using var model = new TinyConvSegmenter(1);
        var result = Train(config, model, dir);
        var steps = TrainingLog.ReadSteps(Path.Combine(dir, TrainingLog.FileName));
        Assert.Equal(Enumerable.Range(1, 30), steps.Select(s => s.Step));
        double early = steps.Take(5).Average(s => s.Loss.Total), late = steps.TakeLast(5).Average(s => s.Loss.Total);
        Assert.True(late < 0.8 * early, $"loss {early:F3} → {late:F3}");
        Assert.All(steps, s => Assert.True(s.Mfu > 0 && s.ExamplesPerSecond > 0 && s.GradNorm > 0));
        Assert.True(new FileInfo(Path.Combine(dir, LossPlot.FileName)).Length > 1000);
        using var loaded = TinyConvSegmenter.Load(result.FinalModelDir);
        foreach (var (name, tensor) in model.state_dict()) Assert.True(tensor.equal(loaded.state_dict()[name]).all().item<bool>(), name);
        // Only the last two step checkpoints are kept; "latest" names the end.
        var kept = Directory.GetDirectories(TrainingCheckpoint.Directory(dir)).Select(d => Path.GetFileName(d)!).Order().ToArray();
        Assert.Equal(["step-000020", "step-000030"], kept);
        Assert.Equal(30, TrainingCheckpoint.ReadState(TrainingCheckpoint.Latest(dir)!).Step);
    }

    [Theory]
    [InlineData(CheckpointContent.Trainable)]
    [InlineData(CheckpointContent.Full)]
    public void ResumeAfterAnInterruptionReachesTheSameWeights(CheckpointContent save)
    {
        var config = Config(steps: 7, checkpointEvery: 3, save);
        using var straight = new TinyConvSegmenter(1);
        Train(config, straight, Path.Combine(dir, "straight"));

        // Interrupted: stop after step 5 (checkpoint at 3), discarding the model and the optimiser.
        var run = Path.Combine(dir, "interrupted");
        using (var first = new TinyConvSegmenter(1))
        using (var cancel = new CancellationTokenSource())
        {
            var stopAt5 = new SyncProgress(p => { if (p.Step == 5) cancel.Cancel(); });
            Assert.Throws<OperationCanceledException>(() => Train(config, first, run, progress: stopAt5, cancel: cancel.Token));
        }
        Assert.Equal(3, TrainingCheckpoint.ReadState(TrainingCheckpoint.Latest(run)!).Step);

        using var resumed = new TinyConvSegmenter(1);
        var result = Train(config, resumed, run, resume: true);
        Assert.Equal(3, result.ResumedFromStep);
        foreach (var (name, tensor) in straight.state_dict())
        {
            var other = resumed.state_dict()[name];
            Assert.True(tensor.equal(other).all().item<bool>(), $"{name}: max diff {(tensor - other).abs().max().item<float>()}");
        }
        // The log of the resumed run has every step once, and the same losses as the uninterrupted run.
        var a = TrainingLog.ReadSteps(Path.Combine(dir, "straight", TrainingLog.FileName));
        var b = TrainingLog.ReadSteps(Path.Combine(run, TrainingLog.FileName));
        Assert.Equal(a.Select(s => s.Step), b.Select(s => s.Step));
        Assert.Equal(a.Select(s => s.Loss.Total), b.Select(s => s.Loss.Total));
    }

    [Fact]
    public void ResumeWithoutACheckpointIsAnError()
    {
        using var model = new TinyConvSegmenter(1);
        var e = Assert.Throws<ConfigException>(() => Train(Config(2, 0), model, dir, resume: true));
        Assert.Contains("nothing to resume", e.Message);
        Assert.Contains(TrainingCheckpoint.Directory(dir), e.Message);
        Assert.False(File.Exists(Path.Combine(dir, TrainingLog.FileName)));
    }

    [Fact]
    public void CorruptOrTruncatedCheckpointsAreClearErrors()
    {
        var config = Config(steps: 2, checkpointEvery: 2);
        using (var model = new TinyConvSegmenter(1)) Train(config, model, dir);
        var checkpoint = TrainingCheckpoint.Latest(dir)!;

        var weights = Path.Combine(checkpoint, TrainingCheckpoint.WeightsFile);
        var bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length - 10)]);
        using (var model = new TinyConvSegmenter(1))
        {
            var e = Assert.Throws<CheckpointException>(() => Train(config, model, dir, resume: true));
            Assert.Contains(TrainingCheckpoint.WeightsFile, e.Message);
        }
        File.WriteAllBytes(weights, bytes);

        var state = Path.Combine(checkpoint, TrainingCheckpoint.StateFile);
        File.WriteAllText(state, "{\"step\": ");
        using (var model = new TinyConvSegmenter(1))
        {
            var e = Assert.Throws<CheckpointException>(() => Train(config, model, dir, resume: true));
            Assert.StartsWith(state, e.Message);
            Assert.Contains("not a valid checkpoint state", e.Message);
        }

        File.WriteAllText(Path.Combine(TrainingCheckpoint.Directory(dir), TrainingCheckpoint.LatestFile), "step-000099\n");
        using (var model = new TinyConvSegmenter(1))
            Assert.Contains("names checkpoint 'step-000099', which does not exist",
                Assert.Throws<CheckpointException>(() => Train(config, model, dir, resume: true)).Message);
    }

    [Fact]
    public void ResumeWithAnotherSeedOrBatchIsRefused()
    {
        using (var model = new TinyConvSegmenter(1)) Train(Config(2, 1), model, dir);
        using var again = new TinyConvSegmenter(1);
        var e = Assert.Throws<ConfigException>(() => Train(Config(4, 1) with { Seed = 12 }, again, dir, resume: true));
        Assert.Contains("seed", e.Message);
    }

    [Fact]
    public void ATrainingStepLeavesNoLiveTensors()
    {
        using var model = new TinyConvSegmenter(1);
        var config = Config(steps: 2, checkpointEvery: 1);
        Train(config, model, Path.Combine(dir, "warm"));
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Train(config, model, Path.Combine(dir, "measured"));
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void WeightAverageFollowsTheDecayWithWarmUp()
    {
        using var p = new TorchSharp.Modules.Parameter(zeros(3));
        using var ema = new ExponentialMovingAverage([("w", p)], 0.5);
        using (no_grad()) p.fill_(1);
        ema.Update(1);                                                    // d = min(0.5, 2/11): ema = 1 − 2/11
        ema.Update(20);                                                   // d = 0.5: ema = 0.5·ema + 0.5
        double expected = 0.5 * (1 - 2.0 / 11) + 0.5;
        ema.CopyToModel();
        Assert.All(p.data<float>().ToArray(), v => Assert.Equal(expected, v, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialMovingAverage([("w", p)], 1.0));
    }

    [Fact]
    public void WithAWeightAverageTheFinalModelIsTheAverageAndResumeKeepsIt()
    {
        var config = Config(steps: 7, checkpointEvery: 3) with { Optim = Config(7, 3).Optim with { EmaDecay = 0.9 } };
        using var straight = new TinyConvSegmenter(1);
        Train(config, straight, Path.Combine(dir, "straight"));
        var last = TrainingCheckpoint.Latest(Path.Combine(dir, "straight"))!;
        using (var raw = TensorSource.Open(Path.Combine(last, TrainingCheckpoint.WeightsFile)))
        using (var avg = TensorSource.Open(Path.Combine(last, TrainingCheckpoint.EmaFile)))
        {
            bool anyDiffers = false;
            foreach (var (name, tensor) in straight.TrainableParameters())
            {
                using var a = avg.Load(name);
                using var r = raw.Load(name);
                Assert.True(tensor.equal(a).all().item<bool>(), $"{name}: the final model is not the average");
                anyDiffers |= !a.equal(r).all().item<bool>();
            }
            Assert.True(anyDiffers, "the average equals the raw weights");
        }
        // Export reads the average by default and the raw weights on request.
        using (var exported = new TinyConvSegmenter(1))             // built as the run built it: a trainable checkpoint
        {
            TrainingCheckpoint.RestoreWeights(last, exported, average: true);
            foreach (var (name, tensor) in straight.state_dict()) Assert.True(tensor.equal(exported.state_dict()[name]).all().item<bool>(), name);
        }

        // Interrupted after step 5 (checkpoint at 3) and resumed: the same average at the end.
        var run = Path.Combine(dir, "interrupted");
        using (var first = new TinyConvSegmenter(1))
        using (var cancel = new CancellationTokenSource())
        {
            var stopAt5 = new SyncProgress(p => { if (p.Step == 5) cancel.Cancel(); });
            Assert.Throws<OperationCanceledException>(() => Train(config, first, run, progress: stopAt5, cancel: cancel.Token));
        }
        using var resumed = new TinyConvSegmenter(1);
        Train(config, resumed, run, resume: true);
        foreach (var (name, tensor) in straight.state_dict())
            Assert.True(tensor.equal(resumed.state_dict()[name]).all().item<bool>(), $"{name}: max diff {(tensor - resumed.state_dict()[name]).abs().max().item<float>()}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ANonFiniteLossOrGradientStopsTheRunBeforeItsStepIsApplied(bool gradientOnly)
    {
        // Step 3's loss gains √(w − w) of a head weight: the loss stays finite (0) and the gradient is ∞ − ∞ = NaN; or
        // the loss itself is made NaN. Either way step 3 must not touch the weights, and the error names what failed.
        var config = Config(steps: 4, checkpointEvery: 2, accum: 1);
        using var model = new TinyConvSegmenter(1);
        var poisoned = new PoisonedAtStep(model, step: 3, gradientOnly);
        var e = Assert.Throws<TrainingDivergedException>(() =>
            new Trainer(config, poisoned, Blobs(config), dir, options: new TrainerOptions { PeakFlops = 1e10, Plot = false }).Run(resume: false));
        Assert.Equal(3, e.Step);
        Assert.Contains(gradientOnly ? "the gradient is not finite" : "the loss is not finite", e.Message);
        if (gradientOnly) Assert.Contains("head.0.weight", e.Message);
        Assert.Contains(".png", e.Message);                                       // the batch's images
        Assert.All(model.parameters(), p => Assert.True(p.isfinite().all().item<bool>()));
        Assert.Equal(2, TrainingLog.ReadSteps(Path.Combine(dir, TrainingLog.FileName)).Count);
    }

    /// <summary>The stand-in whose loss at one step carries a non-finite loss or (finite loss) a non-finite gradient.</summary>
    private sealed class PoisonedAtStep(TinyConvSegmenter inner, int step, bool gradientOnly) : ITrainableModel
    {
        private int calls;
        public nn.Module Module => inner;
        public double TrainingFlopsPerExample => inner.TrainingFlopsPerExample;
        public IReadOnlyList<(string Name, TorchSharp.Modules.Parameter Parameter)> TrainableParameters() => inner.TrainableParameters();
        public void Save(string directory) => inner.Save(directory);

        public TrainingLoss Loss(IReadOnlyList<LoadedExample> batch, LossWeights weights)
        {
            var loss = inner.Loss(batch, weights);
            if (++calls != step) return loss;
            var w = inner.TrainableParameters()[0].Parameter;
            using Scalar nan = double.NaN;                                                  // kept alive: see Modeling.Scalars
            using var poison = gradientOnly ? w.Minus(w).sum().sqrt() : w.sum().mul(nan);   // 0 with a NaN gradient, or NaN
            using (loss) return new TrainingLoss(loss.Total.Plus(poison), loss.Parts);
        }
    }

    /// <summary>Calls back synchronously on the reporting thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    internal sealed class SyncProgress(Action<TrainingProgress> action) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => action(value);
    }
}
