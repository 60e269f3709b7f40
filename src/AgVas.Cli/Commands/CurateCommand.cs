using System.CommandLine;
using System.Diagnostics;
using AgVas.Data;
using AgVas.Synthesis;
using Spectre.Console;

namespace AgVas.Cli.Commands;

/// <summary><c>agvas curate</c>: writes one Anomaly-Instruct record per image of a dataset, computed from its mask and pixels (docs/design.md §8).</summary>
internal static class CurateCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Dataset (folder, MVTec, VisA, meta.json or CSV manifest, e.g. an 'agvas synth' manifest.csv)", Required = true };
        var output = new Option<string>("--out") { Description = "Output JSON Lines file (paths inside are relative to its folder)", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the wording choices", DefaultValueFactory = _ => 0UL };
        var anomalousOnly = new Option<bool>("--anomalous-only") { Description = "Skip normal images (by default they get records saying the object is normal)" };
        var threads = new Option<int>("--threads") { Description = "Worker threads (output does not depend on it)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var command = new Command("curate", "Make Anomaly-Instruct records (expectation, observation, diagnosis, summary, explanation) from masks and images")
        {
            data, output, seed, anomalousOnly, threads,
        };
        command.SetAction(parse =>
        {
            try
            {
                var samples = Datasets.Load(parse.GetValue(data)!);
                if (parse.GetValue(anomalousOnly)) samples = samples.Where(s => s.IsAnomalous).ToList();
                if (samples.Count == 0) throw new DataException(parse.GetValue(data)!, "no anomalous images to curate");
                string outPath = parse.GetValue(output)!;
                var sw = Stopwatch.StartNew();
                IReadOnlyList<InstructRecord> records = [];
                AnsiConsole.Progress().Start(ctx =>
                {
                    var task = ctx.AddTask("curating", maxValue: samples.Count);
                    records = InstructJsonl.Curate(samples, outPath, parse.GetValue(seed), parse.GetValue(threads), new Progress<int>(d => task.Value = d));
                    task.Value = samples.Count;
                });
                InstructJsonl.Write(records, outPath);
                var table = new Table().AddColumns("category", "anomalous", "normal");
                foreach (var g in records.GroupBy(r => r.Category).OrderBy(g => g.Key))
                    table.AddRow(Markup.Escape(g.Key), g.Count(r => r.IsAnomalous).ToString(), g.Count(r => !r.IsAnomalous).ToString());
                AnsiConsole.Write(table);
                AnsiConsole.MarkupLineInterpolated($"{records.Count} records in {sw.Elapsed.TotalSeconds:F1} s -> {outPath}");
                return 0;
            }
            catch (Exception e) when (e is AgVasException or ArgumentException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"agvas curate: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
