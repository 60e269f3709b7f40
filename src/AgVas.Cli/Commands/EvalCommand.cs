using System.CommandLine;
using AgVas.Data;
using AgVas.Evaluation;
using AgVas.Inference;
using Spectre.Console;

namespace AgVas.Cli.Commands;

/// <summary>
/// <c>agvas eval --data &lt;dataset or manifest.csv&gt; --pred &lt;dir&gt; [--out &lt;dir&gt;]</c>: scores a prediction
/// directory (maps <c>.npy</c>, optional <c>_mask.png</c>, mirroring the dataset's relative paths) against the
/// dataset's ground truth (docs/design.md §9), prints the per-category table and writes metrics.json/csv/md. A map of
/// another size than its image is refused, naming the file and both sizes, unless <c>--resize-maps</c>; a folder whose
/// run manifest says the prediction run did not finish is refused. Exit codes: 0 scored; 1 an error (named file); 130 cancelled.
/// </summary>
internal static class EvalCommand
{
    /// <summary>Runs with at least this many images show a progress bar (on an interactive terminal).</summary>
    private const int ProgressBarMinImages = 200;
    private const int RedirectedWidth = 160;

    public static Command Create()
    {
        var data = new Option<string>("--data")
        {
            Description = "Dataset root (MVTec AD, VisA, meta.json, image folder) or a CSV manifest",
            Required = true,
        };
        var pred = new Option<string>("--pred")
        {
            Description = "Prediction directory: <relative image path without extension>.npy maps, optional _mask.png masks",
            Required = true,
        };
        var output = new Option<string?>("--out") { Description = "Directory for metrics.json, metrics.csv and metrics.md" };
        var groups = GroupOption();
        var resizeMaps = new Option<bool>("--resize-maps") { Description = "Resize maps whose size differs from their image (bilinear); without it such a map is an error" };
        var command = new Command("eval", "Score anomaly-segmentation predictions against a dataset's ground truth") { data, pred, output, groups, resizeMaps };
        command.SetAction((parse, cancellationToken) => Task.FromResult(Run(
            parse.GetRequiredValue(data), parse.GetRequiredValue(pred), parse.GetValue(output), parse.GetValue(groups) ?? [], parse.GetValue(resizeMaps),
            parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancellationToken)));
        return command;
    }

    internal static Option<string[]> GroupOption() => new("--group")
    {
        Description = "Also report the mean over a group of categories: name=category,category,... (repeatable), e.g. --group medical=polyp,skin_lesion",
    };

    /// <summary>Parses the --group values and checks that every category they name is in the data (before any work is done).</summary>
    internal static List<(string Name, IReadOnlyList<string> Categories)> ParseGroups(string[] texts, IReadOnlyList<Sample> samples, string dataPath)
    {
        var known = samples.Select(s => s.Category).ToHashSet(StringComparer.Ordinal);
        var groups = new List<(string, IReadOnlyList<string>)>();
        foreach (var text in texts)
        {
            (string Name, IReadOnlyList<string> Categories) group;
            try { group = EvaluationReport.ParseGroup(text); }
            catch (ArgumentException e) { throw new DataException(dataPath, e.Message); }
            foreach (var c in group.Categories.Where(c => !known.Contains(c)))
                throw new DataException(dataPath, $"--group {group.Name}: no category '{c}' (categories: {string.Join(", ", known.Order(StringComparer.Ordinal))})");
            groups.Add(group);
        }
        return groups;
    }

    private static int Run(string dataPath, string predPath, string? outDir, string[] groupTexts, bool resizeMaps, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout) });
        // Redirected output (a file, a test) has no width: give the 13-column table room instead of wrapping it.
        if (!console.Profile.Capabilities.Interactive) console.Profile.Width = Math.Max(console.Profile.Width, RedirectedWidth);
        try
        {
            var samples = Datasets.Load(dataPath);
            var groups = ParseGroups(groupTexts, samples, dataPath);
            var predictions = new PredictionDirectory(predPath, resizeMaps);
            predictions.CheckCoverage(samples);                              // shards (#20): each image in exactly one
            var evaluator = new Evaluator();
            EvaluationReport report;
            if (samples.Count >= ProgressBarMinImages && console.Profile.Capabilities.Interactive)
            {
                report = console.Progress().Start(context =>
                {
                    var task = context.AddTask("evaluating", maxValue: samples.Count);
                    return evaluator.Evaluate(samples, predictions, new TaskProgress(task), cancellationToken);
                });
            }
            else
            {
                report = evaluator.Evaluate(samples, predictions, cancellationToken: cancellationToken);
            }
            report = report.WithGroups(groups);
            if (outDir is not null) ReportWriter.WriteAll(report, outDir);
            Render(console, report);
            console.MarkupLine(outDir is null
                ? "[grey](no --out given: nothing written)[/]"
                : $"wrote {Markup.Escape(Path.Combine(outDir, ReportWriter.JsonFile))}, {ReportWriter.CsvFile}, {ReportWriter.MarkdownFile}");
            return 0;
        }
        catch (Exception e) when (e is AgVasException or IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"error: {e.Message.ReplaceLineEndings(" ")}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            stderr.WriteLine("error: cancelled");
            return 130;
        }
    }

    private static void Render(IAnsiConsole console, EvaluationReport report)
    {
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("category");
        table.AddColumn(new TableColumn("images (ano/nor)").RightAligned());
        foreach (var header in ReportWriter.Headers) table.AddColumn(new TableColumn(header).RightAligned());
        foreach (var c in report.Categories)
            table.AddRow([Markup.Escape(c.Category), $"{c.Images} ({c.Anomalous}/{c.Normal})", .. Cells(c.Metrics)]);
        int images = report.Categories.Sum(c => c.Images), anomalous = report.Categories.Sum(c => c.Anomalous);
        table.AddRow(["[bold]mean[/]", $"{images} ({anomalous}/{images - anomalous})", .. Cells(report.Mean).Select(v => $"[bold]{v}[/]")]);
        foreach (var g in report.Groups)
            table.AddRow([$"[bold]mean ({Markup.Escape(g.Name)})[/]", $"{g.Images} ({g.Anomalous}/{g.Normal})", .. Cells(g.Mean)]);
        console.Write(table);
        foreach (var note in ReportWriter.Notes(report))
            console.MarkupLine(note.Contains("ORACLE") ? $"[yellow]{Markup.Escape(note)}[/]" : Markup.Escape(note));
    }

    private static IEnumerable<string> Cells(MetricValues metrics) =>
        MetricValues.Keys.Select((k, i) => ReportWriter.FormatCell(k, metrics.Values[i]));

    /// <summary>Feeds the evaluator's reports (from worker threads, possibly out of order) to a progress bar.</summary>
    private sealed class TaskProgress(ProgressTask task) : IProgress<EvaluationProgress>
    {
        private readonly Lock _gate = new();

        public void Report(EvaluationProgress value)
        {
            lock (_gate)
            {
                if (value.ImagesDone > task.Value) task.Value = value.ImagesDone;
                task.Description = $"{value.Category} ({value.CategoriesDone}/{value.CategoriesTotal} categories)";
            }
        }
    }
}
