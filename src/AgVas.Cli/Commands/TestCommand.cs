using System.CommandLine;
using AgVas.Data;
using AgVas.Evaluation;
using AgVas.Inference;
using AgVas.Text;
using Spectre.Console;

namespace AgVas.Cli.Commands;

/// <summary>
/// <c>agvas test --model &lt;dir&gt; --data &lt;dataset&gt; --out &lt;dir&gt; [--mode …]</c>: predict + eval in one step. Predictions go to
/// <c>&lt;out&gt;/predictions</c>, metrics to <c>&lt;out&gt;/metrics.{json,csv,md}</c> (JSON and Markdown with how many answers agree
/// with their masks, raw and final); the table is printed. Images that cannot be
/// processed are reported with their reason and left out of the metrics (exit code 3); 1 is a fatal error, 130 cancelled.
/// <c>--overwrite</c> and <c>--resume</c> apply to <c>&lt;out&gt;/predictions</c> as in <c>agvas predict</c>; with
/// <c>--shard K/N</c> the shard's metrics go to <c>&lt;out&gt;/shard-K-of-N/</c>.
/// </summary>
internal static class TestCommand
{
    public static Command Create()
    {
        var model = PredictCommand.ModelOption();
        var data = new Option<string>("--data") { Description = "Test dataset with ground truth", Required = true };
        var output = new Option<string>("--out") { Description = "Output directory (predictions/ and metrics files)", Required = true };
        var mode = PredictCommand.ModeOption();
        var groups = EvalCommand.GroupOption();
        var context = PredictCommand.ContextOption();
        var normals = PredictCommand.NormalsOption();
        var (overwrite, resume) = (PredictCommand.OverwriteOption(), PredictCommand.ResumeOption());
        var shard = PredictCommand.ShardOption();
        var command = new Command("test", "Predict a dataset and evaluate the predictions (docs/design.md §9 metrics)")
            { model, data, output, mode, groups, context, normals, overwrite, resume, shard };
        command.SetAction((parse, cancel) => Task.FromResult(Run(parse.GetValue(model), parse.GetRequiredValue(data),
            parse.GetRequiredValue(output), parse.GetValue(mode), parse.GetValue(groups) ?? [], parse.GetValue(context), parse.GetValue(normals),
            PredictCommand.Existing(parse.GetValue(overwrite), parse.GetValue(resume)), parse.GetValue(shard), parse.InvocationConfiguration.Output,
            parse.InvocationConfiguration.Error, cancel)));
        return command;
    }

    private static int Run(string? modelDir, string dataPath, string outDir, InstructionType mode, string[] groupTexts,
        PredictCommand.ContextChoice contextChoice, string? normalsPath, ExistingOutput? existingChoice, string? shardArgument, TextWriter stdout, TextWriter stderr, CancellationToken cancel)
    {
        var console = PredictCommand.Console(stdout);
        try
        {
            var shard = PredictCommand.Shard(shardArgument);
            var samples = Datasets.Load(dataPath);
            var groups = EvalCommand.ParseGroups(groupTexts, samples, dataPath);
            var existing = PredictCommand.CheckArguments(Path.Combine(outDir, ModelTester.PredictionsDir), existingChoice, modelDir, shard);
            using var segmenter = AnomalySegmenter.LoadOrDefault(modelDir, mode);
            var context = PredictCommand.BuildContext(contextChoice, normalsPath, stderr, cancel);
            using var normals = context?.Normals;
            var result = PredictCommand.WithProgress(console, samples.Count,
                progress => ModelTester.Run(segmenter, samples, outDir, mode, progress, cancel, groups: groups, context: context,
                    warnings: PredictCommand.Warnings(stderr), existing: existing, shard: shard));
            int code = PredictCommand.Report(console, stderr, result.Predictions);
            console.WriteLine(ReportWriter.ToMarkdown(result.Report, result.Predictions.Answers));
            console.MarkupLine($"wrote {Markup.Escape(Path.Combine(ModelTester.ReportDir(outDir, shard), ReportWriter.JsonFile))}, {ReportWriter.CsvFile}, {ReportWriter.MarkdownFile}" +
                (shard is { Count: > 1 } ? $" (shard {shard}'s images; the whole set: agvas eval --pred {Markup.Escape(Path.Combine(outDir, ModelTester.PredictionsDir))})" : ""));
            return code;
        }
        catch (Exception e) when (PredictCommand.IsUserError(e))
        {
            stderr.WriteLine($"error: {e.Message.ReplaceLineEndings(" ")}");
            return PredictCommand.ExitError;
        }
        catch (OperationCanceledException)
        {
            stderr.WriteLine("error: cancelled");
            return PredictCommand.ExitCancelled;
        }
    }
}
