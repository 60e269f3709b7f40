using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Training;

/// <summary>Progress of a run, reported after every optimiser step (and after each validation pass).</summary>
public sealed record TrainingProgress(int Step, int TotalSteps, StepRecord Record, TimeSpan Eta, IReadOnlyDictionary<string, double?>? Validation = null);

/// <summary>Scores the model on the held-out set (AgVas.Evaluation's metrics); called every <c>validate_every</c> steps.</summary>
public interface ITrainingValidator
{
    IReadOnlyDictionary<string, double?> Validate(ITrainableModel model, CancellationToken cancellationToken);
}

/// <summary>What a finished run leaves behind.</summary>
public sealed record TrainingResult(string RunDir, string FinalModelDir, int Steps, int ResumedFromStep, LossParts? FirstLoss, LossParts? LastLoss);

/// <summary>Settings of a run that are not in the config file.</summary>
public sealed record TrainerOptions
{
    /// <summary>fp32 matmul rate (FLOP/s) that MFU is measured against; null = measure at start (<see cref="MatmulRate"/>).</summary>
    public double? PeakFlops { get; init; }
    /// <summary>Write the loss plot at the end.</summary>
    public bool Plot { get; init; } = true;
}

/// <summary>
/// The AG-VAS training loop (docs/design.md §8), nanoGPT style, one optimiser step per iteration read top to bottom:
/// learning rate, micro-steps with gradient accumulation, clipping, AdamW step, log, validation, checkpoint.
/// Randomness is counter-based: the data of step s and torch's generator (LoRA dropout) are functions of (seed, s), so
/// <c>resume</c> continues from the last checkpoint exactly as the uninterrupted run would have (same optimiser
/// state, data position and random state). Cancellation stops between steps without writing anything: like a kill,
/// it loses the steps since the last checkpoint.
/// </summary>
public sealed class Trainer(TrainingConfig config, ITrainableModel model, DataMixture data, string runDir,
    ITrainingValidator? validator = null, TrainerOptions? options = null)
{
    private readonly TrainerOptions options = options ?? new TrainerOptions();

    public static string FinalDirectory(string runDir) => Path.Combine(runDir, "final");

    /// <summary>What a run writes in its folder (besides the data it synthesizes), so that a new run can be told from a re-run.</summary>
    private static string[] RunFiles(string runDir) =>
    [
        TrainingCheckpoint.Directory(runDir), FinalDirectory(runDir), Path.Combine(runDir, TrainingLog.FileName),
        Path.Combine(runDir, LossPlot.FileName), Path.Combine(runDir, SegmentationValidator.DirectoryName), Path.Combine(runDir, TrainingSetup.DataDirectory),
    ];

    /// <summary>
    /// Checks <paramref name="runDir"/> before any work: <paramref name="resume"/> needs a checkpoint there; otherwise a
    /// folder that holds a run is refused unless <paramref name="overwrite"/>, which deletes that run's checkpoints, final
    /// model, log, plot, validation outputs and synthesized data (nothing else) so that the new run starts clean.
    /// </summary>
    public static void PrepareRunDirectory(string runDir, bool resume, bool overwrite)
    {
        if (resume && overwrite) throw new ConfigException(runDir, "give --resume or --overwrite, not both");
        if (resume)
        {
            if (TrainingCheckpoint.Latest(runDir) is null)
                throw new ConfigException(runDir, $"nothing to resume: no checkpoint in {TrainingCheckpoint.Directory(runDir)} (start the run without --resume)");
            return;
        }
        var existing = RunFiles(runDir).Where(p => File.Exists(p) || Directory.Exists(p)).ToList();
        if (existing.Count == 0) return;
        if (!overwrite)
            throw new ConfigException(runDir, $"the folder holds a training run ({Path.GetFileName(existing[0])}): give --resume to continue it, " +
                "--overwrite to start again, or another --out");
        foreach (var path in existing)
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            else File.Delete(path);
        }
    }

    public TrainingResult Run(bool resume, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(runDir);
        var o = config.Optim;
        int examplesPerStep = o.BatchSize * o.GradAccum;
        var schedule = new LearningRateSchedule(o.Lr, o.WarmupSteps, config.Steps);
        var trainable = model.TrainableParameters();
        using var optimizer = new AdamW(trainable, o.Betas[0], o.Betas[1], o.Eps, o.WeightDecay);
        var content = TrainingCheckpoint.Content(config.Output.Save);

        int start = 0;
        var checkpoint = resume
            ? TrainingCheckpoint.Latest(runDir) ?? throw new ConfigException(runDir, $"nothing to resume: no checkpoint in {TrainingCheckpoint.Directory(runDir)}")
            : null;
        if (checkpoint is not null)
        {
            var state = TrainingCheckpoint.Restore(checkpoint, model, optimizer);
            if (state.Seed != config.Seed)
                throw new ConfigException(checkpoint, $"the checkpoint was written with seed {state.Seed}, the config says {config.Seed}; resume needs the same config");
            if (state.ExamplesSeen != (long)state.Step * examplesPerStep)
                throw new ConfigException(checkpoint, $"the checkpoint saw {state.ExamplesSeen} examples in {state.Step} steps; batch_size × grad_accum must not change on resume");
            start = state.Step;
        }
        // The average starts from the weights (those of the checkpoint on resume), then follows the saved average if any.
        using var ema = o.EmaDecay > 0 ? new ExponentialMovingAverage(trainable, o.EmaDecay) : null;
        if (ema is not null && checkpoint is not null) TrainingCheckpoint.RestoreAverage(checkpoint, ema);
        using var log = TrainingLog.Open(runDir, start);
        double peak = options.PeakFlops ?? MatmulRate.Measure();
        var clock = Stopwatch.StartNew();
        LossParts? first = null, last = null;
        model.Module.train();

        for (int step = start; step < config.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var stepClock = Stopwatch.StartNew();
            // 1. learning rate and this step's random state
            double lr = schedule.At(step);
            manual_seed((long)(StreamRandom.Mix(config.Seed, step, 7) >> 1));

            // 2. micro-steps: accumulate the gradient of the mean loss over batch_size × grad_accum examples
            optimizer.ZeroGrad();
            var parts = LossParts.Zero;
            var stepImages = new List<string>();
            for (int micro = 0; micro < o.GradAccum; micro++)
            {
                using var scope = NewDisposeScope();
                var batch = data.Batch((long)step * examplesPerStep + (long)micro * o.BatchSize, o.BatchSize);
                stepImages.AddRange(batch.Select(e => e.Example.Item.ImagePath));
                using var loss = model.Loss(batch, config.Loss);
                if (!double.IsFinite(loss.Total.item<float>()))
                {
                    var badWeights = model.Module.named_parameters().Where(p => !p.parameter.isfinite().all().item<bool>()).Select(p => p.name).ToList();
                    throw new TrainingDivergedException(step + 1, $"{loss.Parts}; non-finite weights: [{string.Join(", ", badWeights)}]",
                        batch.Select(e => e.Example.Item.ImagePath).ToList());
                }
                using Scalar accum = o.GradAccum;                                  // kept alive: see Modeling.Scalars
                (loss.Total / accum).backward();
                parts += loss.Parts;
            }
            parts /= o.GradAccum;

            // 3. clip, 4. step. A finite loss can still have a non-finite gradient; clipping would spread it to every weight.
            double gradNorm = ClipGradients(optimizer, o.GradClip);
            if (!double.IsFinite(gradNorm))
            {
                var badGrads = model.Module.named_parameters().Where(p => p.parameter.grad is { } g && !g.isfinite().all().item<bool>()).Select(p => p.name).ToList();
                throw new TrainingDivergedException(step + 1, $"{parts}; the gradient is not finite for: [{string.Join(", ", badGrads)}]",
                    stepImages, what: "the gradient");
            }
            optimizer.Update(lr);
            ema?.Update(optimizer.Step);

            // 5. log
            double seconds = stepClock.Elapsed.TotalSeconds;
            double rate = examplesPerStep / seconds;
            double mfu = model.TrainingFlopsPerExample * rate / peak;
            if (mfu > 1 && options.PeakFlops is null)
            {
                // More than the machine's rate: the start-up measurement ran while something else had the cores.
                peak = Math.Max(peak, MatmulRate.Measure());
                mfu = model.TrainingFlopsPerExample * rate / peak;
            }
            var record = new StepRecord(step + 1, lr, parts, gradNorm, rate, mfu, clock.Elapsed.TotalSeconds);
            log.Write(record);
            first ??= parts;
            last = parts;
            var eta = TimeSpan.FromSeconds(clock.Elapsed.TotalSeconds / (step + 1 - start) * (config.Steps - step - 1));
            progress?.Report(new TrainingProgress(step + 1, config.Steps, record, eta));

            // 6. validation
            bool end = step + 1 == config.Steps;
            if (validator is not null && (end || (config.Output.ValidateEvery > 0 && (step + 1) % config.Output.ValidateEvery == 0)))
            {
                model.Module.eval();
                var metrics = validator.Validate(model, cancellationToken);
                model.Module.train();
                log.WriteValidation(step + 1, metrics);
                progress?.Report(new TrainingProgress(step + 1, config.Steps, record, eta, metrics));
            }

            // 7. checkpoint
            if (end || (config.Output.CheckpointEvery > 0 && (step + 1) % config.Output.CheckpointEvery == 0))
                TrainingCheckpoint.Save(runDir, model, optimizer,
                    new CheckpointState(step + 1, (long)(step + 1) * examplesPerStep, config.Seed, content, config.Model.Base, config.Model.Preset),
                    config.Output.KeepCheckpoints, ema);
        }

        model.Module.eval();
        ema?.CopyToModel();                                   // the final model is the average
        var final = FinalDirectory(runDir);
        SaveFinal(final);
        if (options.Plot && File.Exists(log.Path))
        {
            var steps = TrainingLog.ReadSteps(log.Path);
            if (steps.Count > 0) LossPlot.Save(steps, Path.Combine(runDir, LossPlot.FileName));
        }
        return new TrainingResult(runDir, final, config.Steps, start, first, last);
    }

    /// <summary>Clips the global L2 norm of the gradients to <paramref name="maxNorm"/> (0: no clipping) as
    /// <c>clip_grad_norm_</c> does; returns the norm before clipping. A non-finite norm leaves the gradients untouched, so
    /// the caller can name the parameters whose gradient is not finite.</summary>
    private static double ClipGradients(AdamW optimizer, double maxNorm)
    {
        using var scope = NewDisposeScope();
        var grads = optimizer.Parameters.Select(p => p.grad).OfType<Tensor>().ToList();
        if (grads.Count == 0) return 0;
        double norm = stack(grads.Select(g => g.norm()).ToArray()).norm().item<float>();
        if (maxNorm > 0 && double.IsFinite(norm) && norm > maxNorm)
        {
            using Scalar factor = maxNorm / (norm + 1e-6);
            foreach (var g in grads) g.mul_(factor);
        }
        return norm;
    }

    /// <summary>Saves the model directory into a temporary sibling and renames it over <paramref name="final"/>.</summary>
    private void SaveFinal(string final)
    {
        var tmp = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(final))!, $".final.{Guid.NewGuid():N}.tmp");
        try
        {
            using (NewDisposeScope()) model.Save(tmp); // frees any temporaries the writer makes (e.g. detached views)
            if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
            Directory.Move(tmp, final);
        }
        finally
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        }
    }
}

/// <summary>The loss or the gradient of a step is not finite. Nothing of that step is applied, so the run's last checkpoint is
/// the last good state; the message names the step, the loss parts (and the parameters of a non-finite gradient) and the
/// batch's images.</summary>
public sealed class TrainingDivergedException(int step, string parts, IReadOnlyList<string> images, string what = "the loss")
    : AgVasException($"step {step}", $"{what} is not finite ({parts}); nothing of this step was applied (resume from the last checkpoint). Batch: {string.Join(", ", images)}")
{
    public int Step { get; } = step;
}
