using System.CommandLine;
using System.Globalization;
using AgVas.Checkpoints;
using AgVas.Modeling;
using AgVas.Training;
using Spectre.Console;

namespace AgVas.Cli.Commands;

/// <summary>
/// <c>agvas train --config &lt;file.yaml&gt; [--out &lt;dir&gt;] [--resume]</c>: trains AG-VAS (docs/design.md §8). Shows a progress bar
/// with the loss parts, throughput, MFU and ETA; writes <c>train_log.jsonl</c>, checkpoints under <c>checkpoints/</c>,
/// the final model in <c>final/</c> and <c>loss.png</c>. Ctrl-C stops between steps (exit 130); <c>--resume</c>
/// continues from the last checkpoint (an error when there is none); a folder that already holds a run is refused unless
/// <c>--resume</c> or <c>--overwrite</c> (which deletes that run's outputs first). Exit codes: 0 done; 1 bad config, data or checkpoint; 130 cancelled.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config") { Description = "Training config (YAML)", Required = true };
        var output = new Option<string?>("--out") { Description = "Run directory (default: output.dir of the config, relative to it)" };
        var resume = new Option<bool>("--resume") { Description = "Continue from the run directory's last checkpoint" };
        var overwrite = new Option<bool>("--overwrite") { Description = "The run directory may hold a run: delete its checkpoints, final model, log and data, and start again" };
        var command = new Command("train", "Train AG-VAS from a config") { config, output, resume, overwrite };
        command.Subcommands.Add(CreateExport());
        command.SetAction((parse, cancel) => Task.FromResult(Run(parse.GetRequiredValue(config), parse.GetValue(output), parse.GetValue(resume), parse.GetValue(overwrite),
            parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancel)));
        return command;
    }

    /// <summary><c>agvas train export --config &lt;yaml&gt; --checkpoint &lt;run&gt;/checkpoints/step-N --out &lt;model dir&gt;</c>: a
    /// training checkpoint as a model directory that segment / predict / test load.</summary>
    private static Command CreateExport()
    {
        var config = new Option<string>("--config") { Description = "The training config the checkpoint's run used", Required = true };
        var checkpoint = new Option<string>("--checkpoint") { Description = "A checkpoint directory (<run>/checkpoints/step-NNNNNN)", Required = true };
        var output = new Option<string>("--out") { Description = "Model directory to write", Required = true };
        var seed = new Option<double?>("--seed-threshold")
        {
            Description = "Set the model's mask hysteresis (Agmd.SeedThreshold): a region of P > 0.5 is kept only if some pixel exceeds this; default: keep the run's",
        };
        var threshold = new Option<double?>("--threshold")
        {
            Description = "Set the model's mask threshold (Agmd.Threshold): regions of P above it make the mask (with --seed-threshold's hysteresis); default: keep the run's (0.5, the paper's)",
        };
        var inputSize = new Option<int?>("--input-size")
        {
            Description = "Set the input size of a ResNet-backbone model (fully convolutional, so it runs at any size; the pixel grid follows): e.g. 384 for a model trained at 256",
        };
        var scales = new Option<int[]>("--scales")
        {
            Description = "Set the input sizes a ResNet-backbone model runs each image at, maps max-fused (e.g. --scales 256 384 512; one of them the input size); default: the input size only",
            AllowMultipleArgumentsPerToken = true,
        };
        var mirror = new Option<bool?>("--mirror")
        {
            Description = "Set whether a ResNet-backbone model also runs each image mirrored left to right and averages the two maps (about 1.75× the time: both run in one batch); default: keep the run's",
        };
        var raw = new Option<bool>("--raw") { Description = "Export the raw weights even when the checkpoint holds a weight average (optim.ema_decay)" };
        var command = new Command("export", "Write a training checkpoint as a model directory (for segment, predict, test)") { config, checkpoint, output, threshold, seed, inputSize, scales, mirror, raw };
        command.SetAction((parse, cancel) =>
        {
            var stderr = parse.InvocationConfiguration.Error;
            try
            {
                var configPath = parse.GetRequiredValue(config);
                var trainingConfig = TrainingConfigLoader.Load(configPath);
                using var model = TrainingSetup.CreateModel(trainingConfig, Path.GetDirectoryName(Path.GetFullPath(configPath))!);
                var checkpointDir = parse.GetRequiredValue(checkpoint);
                bool average = !parse.GetValue(raw) && TrainingCheckpoint.HasAverage(checkpointDir);
                var state = TrainingCheckpoint.RestoreWeights(checkpointDir, model, average);
                var outDir = parse.GetRequiredValue(output);
                var written = model.Model.Config;
                var agmd = written.Vision.Agmd;
                if (parse.GetValue(threshold) is { } t) agmd = agmd with { Threshold = t };
                if (parse.GetValue(seed) is { } s) agmd = agmd with { SeedThreshold = s };
                var vision = written.Vision with { Agmd = agmd };
                ResNetEncoderConfig ResNetOnly(string option) => vision.ResNet
                    ?? throw new ConfigException(option, "applies to ResNet-backbone models only (the ViT presets have fixed position embeddings)");
                if (parse.GetValue(inputSize) is { } size)
                {
                    var resnet = ResNetOnly("--input-size") with { ImageSize = size };
                    vision = vision with { ResNet = resnet, Spam = vision.Spam with { PixelGridSize = resnet.GridSize } };
                }
                if (parse.GetValue(scales) is { Length: > 0 } sizes)
                    vision = vision with { ResNet = ResNetOnly("--scales") with { Scales = sizes } };
                if (parse.GetValue(mirror) is { } m)
                    vision = vision with { ResNet = ResNetOnly("--mirror") with { Mirror = m } };
                written = written with { Vision = vision };
                // Save validates the configuration before it writes anything; the model's own is valid, so an error
                // here comes from the options.
                try { AgVasModelDirectory.Save(outDir, model.Model, model.Tokenizer, written); }
                catch (ModelConfigException e) { throw new ConfigException("--threshold / --seed-threshold / --input-size / --scales / --mirror", e.Message); }
                parse.InvocationConfiguration.Output.WriteLine(
                    $"wrote {Path.GetFullPath(outDir)} (step {state.Step}, {state.ExamplesSeen} examples seen, {(average ? "weight average" : "raw weights")})");
                return Task.FromResult(0);
            }
            catch (Exception e) when (PredictCommand.IsUserError(e))
            {
                stderr.WriteLine($"error: {e.Message.ReplaceLineEndings(" ")}");
                return Task.FromResult(PredictCommand.ExitError);
            }
        });
        return command;
    }

    private static int Run(string configPath, string? outDir, bool resume, bool overwrite, TextWriter stdout, TextWriter stderr, CancellationToken cancel)
    {
        var console = PredictCommand.Console(stdout);
        try
        {
            var config = TrainingConfigLoader.Load(configPath);
            var configDir = Path.GetDirectoryName(Path.GetFullPath(configPath))!;
            var runDir = TrainingSetup.RunDirectory(config, configDir, outDir);
            Trainer.PrepareRunDirectory(runDir, resume, overwrite);
            var data = TrainingSetup.Mixture(config, configDir, runDir);
            using var model = CreateModel(config, configDir, configPath);
            var validator = TrainingSetup.Validator(config, configDir, runDir);
            console.MarkupLine($"training [bold]{Markup.Escape(config.Model.Base ?? config.Model.Preset)}[/] for {config.Steps} steps " +
                $"({config.Optim.BatchSize}×{config.Optim.GradAccum} examples per step) into {Markup.Escape(runDir)}");
            var result = console.Progress()
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(context =>
                {
                    var task = context.AddTask("starting", maxValue: config.Steps);
                    return new Trainer(config, model, data, runDir, validator).Run(resume, new PredictCommand.SyncProgress<TrainingProgress>(p =>
                    {
                        task.Value = p.Step;
                        task.Description = Markup.Escape(Describe(p));
                        if (p.Validation is { } v)
                            console.MarkupLine(Markup.Escape($"step {p.Step} validation: " +
                                string.Join(" ", v.Where(kv => kv.Value is not null).Select(kv => $"{kv.Key} {kv.Value!.Value.ToString("F3", CultureInfo.InvariantCulture)}"))));
                    }), cancel);
                });
            if (result.ResumedFromStep > 0) console.MarkupLine($"resumed from step {result.ResumedFromStep}");
            console.MarkupLine($"done: final model in {Markup.Escape(result.FinalModelDir)}, log {TrainingLog.FileName}, plot {LossPlot.FileName}");
            return 0;
        }
        catch (Exception e) when (PredictCommand.IsUserError(e))
        {
            stderr.WriteLine($"error: {e.Message.ReplaceLineEndings(" ")}");
            return PredictCommand.ExitError;
        }
        catch (OperationCanceledException)
        {
            stderr.WriteLine("error: cancelled (rerun with --resume to continue from the last checkpoint)");
            return PredictCommand.ExitCancelled;
        }
    }

    /// <summary>The model of the config; an error about a config field (not a file) names the config file too.</summary>
    private static AgVasTrainingModel CreateModel(TrainingConfig config, string configDir, string configPath)
    {
        try { return TrainingSetup.CreateModel(config, configDir); }
        catch (ConfigException e) when (!File.Exists(e.File) && !Directory.Exists(e.File))
        {
            throw new ConfigException(configPath, $"{e.File}: {e.Problem}", e);
        }
    }

    /// <summary>"step 12/100 loss 1.234 | txt 0.50 bce 0.10/0.10/0.10 dice 0.30/0.30/0.30 (nor/ano/seg) | 3.2 ex/s MFU 1.2%".</summary>
    internal static string Describe(TrainingProgress p)
    {
        var l = p.Record.Loss;
        return string.Create(CultureInfo.InvariantCulture,
            $"step {p.Step}/{p.TotalSteps} loss {l.Total:F3} | txt {l.Text:F3} bce {l.BceNor:F3}/{l.BceAno:F3}/{l.BceSeg:F3} " +
            $"dice {l.DiceNor:F3}/{l.DiceAno:F3}/{l.DiceSeg:F3} (nor/ano/seg) hard {l.HardBce:F3} | {p.Record.ExamplesPerSecond:F1} ex/s MFU {p.Record.Mfu:P1}");
    }
}
