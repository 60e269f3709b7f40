using System.CommandLine;
using AgVas.Data;
using AgVas.Inference;
using AgVas.Text;
using Spectre.Console;

namespace AgVas.Cli.Commands;

/// <summary>
/// <c>agvas predict [--model &lt;dir&gt;] --data &lt;dataset&gt; --out &lt;dir&gt; [--mode …]</c>: writes the prediction directory that
/// <c>agvas eval</c> reads — <c>&lt;relative path without extension&gt;.npy</c> (P, float32 at the image size) and
/// <c>_mask.png</c> (M) — plus <c>results.jsonl</c> (per image: the mask's facts, the answer agreeing with them, the raw
/// model text and where it contradicted the mask). Prints how many raw texts and final answers agree with their masks.
/// <c>--context batch</c> and <c>--normals PATH</c> add batch or few-shot context (docs/design.md §11); fallbacks are warnings.
/// A non-empty <c>--out</c> is refused unless <c>--overwrite</c> (replace the previous run) or <c>--resume</c> (finish an
/// interrupted run); the folder, the model and the dataset are checked before any image is predicted.
/// Exit codes: 0 all images done; 3 some images could not be processed (each reported with its reason, the rest written);
/// 1 a fatal error (model, dataset, arguments, output folder); 130 cancelled.
/// </summary>
internal static class PredictCommand
{
    public const int ExitSomeFailed = 3;
    public const int ExitError = 1;
    public const int ExitCancelled = 130;

    public static Command Create()
    {
        var model = ModelOption();
        var data = new Option<string>("--data") { Description = "Dataset (MVTec AD, VisA, meta.json, image folder, CSV manifest)", Required = true };
        var output = new Option<string>("--out") { Description = "Prediction directory to write", Required = true };
        var mode = ModeOption();
        var context = ContextOption();
        var normals = NormalsOption();
        var (overwrite, resume) = (OverwriteOption(), ResumeOption());
        var shard = ShardOption();
        var command = new Command("predict", "Segment every image of a dataset into a prediction directory (maps, masks, answers)")
            { model, data, output, mode, context, normals, overwrite, resume, shard };
        command.SetAction((parse, cancel) => Task.FromResult(Run(parse.GetValue(model), parse.GetRequiredValue(data),
            parse.GetRequiredValue(output), parse.GetValue(mode), parse.GetValue(context), parse.GetValue(normals),
            Existing(parse.GetValue(overwrite), parse.GetValue(resume)), parse.GetValue(shard), parse.InvocationConfiguration.Output,
            parse.InvocationConfiguration.Error, cancel)));
        return command;
    }

    /// <summary><c>--shard K/N</c> (#20, <see cref="ShardSpec"/>): predict only shard K of N, into an output folder the
    /// shards share; <c>/N</c> takes K from <c>JOB_COMPLETION_INDEX</c> (a Kubernetes Indexed Job).</summary>
    internal static Option<string?> ShardOption() => new("--shard")
    {
        Description = "Predict only shard K of N (K/N, or /N with K from JOB_COMPLETION_INDEX): images split by a stable hash of " +
                      "their relative path (of their category with --context batch); the N shards share --out and eval checks they cover the dataset once",
    };

    /// <summary>The shard of <c>--shard</c> (null when not given).</summary>
    internal static ShardSpec? Shard(string? argument) => argument is null ? null : ShardSpec.Resolve(argument);

    internal static Option<bool> OverwriteOption() => new("--overwrite")
    {
        Description = "--out may hold a previous run: its outputs are deleted and every image is predicted again",
    };

    internal static Option<bool> ResumeOption() => new("--resume")
    {
        Description = "--out holds an interrupted run (same images and settings): keep its complete images, predict the rest",
    };

    /// <summary>What <c>--overwrite</c> / <c>--resume</c> select (null: both given, an error reported when the run starts).</summary>
    internal static ExistingOutput? Existing(bool overwrite, bool resume) => (overwrite, resume) switch
    {
        (true, true) => null,
        (true, false) => ExistingOutput.Overwrite,
        (false, true) => ExistingOutput.Resume,
        _ => ExistingOutput.Refuse,
    };

    /// <summary>Checks, before any work, the output folder (<see cref="PredictionRun.CheckOutput"/>) and the model's files.</summary>
    internal static ExistingOutput CheckArguments(string outDir, ExistingOutput? existing, string? modelDir, ShardSpec? shard = null)
    {
        if (existing is not { } e) throw new DataException(outDir, "give --overwrite or --resume, not both");
        if (modelDir is not null) AgVas.Checkpoints.AgVasModelDirectory.CheckFiles(modelDir);
        PredictionRun.CheckOutput(outDir, e, shard);
        return e;
    }

    /// <summary>What <c>--context</c> selects (docs/design.md §11).</summary>
    internal enum ContextChoice
    {
        /// <summary>Each image alone (the default).</summary>
        None,
        /// <summary>Each image with the others of its category.</summary>
        Batch,
    }

    internal static Option<ContextChoice> ContextOption() => new("--context")
    {
        Description = "none (default): each image alone; batch: each image scored with the others of its category (dataset category, or folder)",
        DefaultValueFactory = _ => ContextChoice.None,
    };

    internal static Option<string?> NormalsOption() => new("--normals")
    {
        Description = "Few-shot: known-good reference images, a folder (sub-folder = category) or a CSV manifest with a category column",
    };

    /// <summary>The context options of <c>--context</c> and <c>--normals</c> (null: single-image mode); builds the
    /// reference set, which the caller disposes, and prints skipped references to <paramref name="stderr"/>.</summary>
    internal static ContextOptions? BuildContext(ContextChoice context, string? normalsPath, TextWriter stderr, CancellationToken cancel)
    {
        if (context == ContextChoice.None && normalsPath is null) return null;
        ReferenceSet? normals = null;
        if (normalsPath is not null)
        {
            normals = ReferenceSet.Load(normalsPath, cancellationToken: cancel);
            foreach (var (image, error) in normals.Skipped) stderr.WriteLine($"warning: reference skipped: {error}");
        }
        return new ContextOptions { Batch = context == ContextChoice.Batch, Normals = normals };
    }

    /// <summary>Prints each context fallback as a warning.</summary>
    internal static IProgress<ContextWarning> Warnings(TextWriter stderr) => new SyncProgress<ContextWarning>(w => stderr.WriteLine($"warning: {w.Message}"));

    internal static Option<string> ModelOption() => new("--model")
    {
        Description = $"Model directory (default: the embedded {AnomalySegmenter.DefaultModelPath})",
    };

    internal static Option<InstructionType> ModeOption() => new("--mode")
    {
        Description = "Instruction type: DirectSegmentation, DescribeThenSegment, DescribeThenSegmentPlus, SegmentThenExplain",
        DefaultValueFactory = _ => InstructionType.DescribeThenSegment,
    };

    private static int Run(string? modelDir, string dataPath, string outDir, InstructionType mode, ContextChoice contextChoice, string? normalsPath,
        ExistingOutput? existingChoice, string? shardArgument, TextWriter stdout, TextWriter stderr, CancellationToken cancel)
    {
        var console = Console(stdout);
        try
        {
            var shard = Shard(shardArgument);
            var samples = Datasets.Load(dataPath);
            var existing = CheckArguments(outDir, existingChoice, modelDir, shard);
            using var segmenter = AnomalySegmenter.LoadOrDefault(modelDir, mode);
            var context = BuildContext(contextChoice, normalsPath, stderr, cancel);
            using var normals = context?.Normals;
            var summary = WithProgress(console, samples.Count, progress => DatasetPredictor.Run(segmenter, samples, outDir, mode, progress, cancel,
                context: context, warnings: Warnings(stderr), existing: existing, shard: shard));
            return Report(console, stderr, summary);
        }
        catch (Exception e) when (IsUserError(e))
        {
            stderr.WriteLine($"error: {e.Message.ReplaceLineEndings(" ")}");
            return ExitError;
        }
        catch (OperationCanceledException)
        {
            stderr.WriteLine("error: cancelled");
            return ExitCancelled;
        }
    }

    /// <summary>Runs <paramref name="run"/> under a progress bar fed by its <see cref="PredictProgress"/> reports.</summary>
    internal static T WithProgress<T>(IAnsiConsole console, int total, Func<IProgress<PredictProgress>, T> run) =>
        console.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask("predicting", maxValue: total);
                return run(new SyncProgress<PredictProgress>(p =>
                {
                    task.MaxValue = p.Total;                                                    // a shard's share of the dataset
                    task.Value = p.Done;
                    task.Description = $"predicting {p.Done}/{p.Total}" + (p.Failed > 0 ? $" ({p.Failed} failed)" : "");
                }));
            });

    /// <summary>Prints the failures and the summary line; returns the exit code.</summary>
    internal static int Report(IAnsiConsole console, TextWriter stderr, PredictSummary summary)
    {
        foreach (var (image, error) in summary.Failures) stderr.WriteLine($"skipped: {error}");
        console.MarkupLine($"wrote {summary.Succeeded} prediction(s) to {Markup.Escape(summary.OutDir)} ({summary.ResultsFile})" +
            (summary.Failures.Count > 0 ? $", [red]{summary.Failures.Count} image(s) failed[/]" : ""));
        if (summary.Answers.Answers > 0)
            console.MarkupLine($"answers agreeing with their masks: {Markup.Escape(summary.Answers.Describe())}");
        return summary.Failures.Count > 0 ? ExitSomeFailed : 0;
    }

    internal static IAnsiConsole Console(TextWriter stdout) => AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout) });

    internal static bool IsUserError(Exception e) =>
        e is AgVasException or IOException or UnauthorizedAccessException;

    /// <summary>Calls back on the reporting thread.</summary>
    internal sealed class SyncProgress<T>(Action<T> action) : IProgress<T>
    {
        public void Report(T value) => action(value);
    }
}
