using System.CommandLine;
using System.Globalization;
using AgVas.Data;
using AgVas.Inference;
using AgVas.Text;
using Spectre.Console;

namespace AgVas.Cli.Commands;

/// <summary>
/// <c>agvas segment &lt;image or folder&gt;... [--model &lt;dir&gt;] [--out &lt;dir&gt;] [--mode …]</c>: for each image writes
/// <c>&lt;name&gt;_mask.png</c> (M at the original size), <c>&lt;name&gt;.npy</c> (P) and <c>&lt;name&gt;_overlay.png</c> (mask contour in
/// red over P as a heat layer), prints the mask's facts (verdict, area, size class, location, regions) and the answer that
/// agrees with them (<see cref="Prediction.Text"/>), and writes <c>results.jsonl</c> (<see cref="PredictionRecord"/>: facts,
/// answer and the model's raw text). Folders are
/// searched recursively for images; outputs mirror <c>&lt;folder name&gt;/&lt;relative path&gt;</c>.
/// A non-empty <c>--out</c> is refused unless <c>--overwrite</c> or <c>--resume</c> (as in <c>agvas predict</c>).
/// Exit codes: 0 all done; 3 some inputs could not be processed (each reported with its reason, the rest written);
/// 1 a fatal error; 130 cancelled.
/// </summary>
internal static class SegmentCommand
{
    public static Command Create()
    {
        var inputs = new Argument<string[]>("inputs") { Description = "Images and/or folders of images", Arity = ArgumentArity.OneOrMore };
        var model = PredictCommand.ModelOption();
        var output = new Option<string>("--out") { Description = "Output directory", DefaultValueFactory = _ => "agvas-segment" };
        var mode = PredictCommand.ModeOption();
        var context = PredictCommand.ContextOption();
        var normals = PredictCommand.NormalsOption();
        var (overwrite, resume) = (PredictCommand.OverwriteOption(), PredictCommand.ResumeOption());
        var shard = PredictCommand.ShardOption();
        var command = new Command("segment", "Segment anomalies in images: mask, map, overlay, answer and area per image")
            { inputs, model, output, mode, context, normals, overwrite, resume, shard };
        command.SetAction((parse, cancel) => Task.FromResult(Run(parse.GetRequiredValue(inputs), parse.GetValue(model), parse.GetRequiredValue(output),
            parse.GetValue(mode), parse.GetValue(context), parse.GetValue(normals), PredictCommand.Existing(parse.GetValue(overwrite), parse.GetValue(resume)),
            parse.GetValue(shard), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancel)));
        return command;
    }

    private static int Run(string[] inputs, string? modelDir, string outDir, InstructionType mode, PredictCommand.ContextChoice contextChoice,
        string? normalsPath, ExistingOutput? existingChoice, string? shardArgument, TextWriter stdout, TextWriter stderr, CancellationToken cancel)
    {
        var console = PredictCommand.Console(stdout);
        try
        {
            var shard = PredictCommand.Shard(shardArgument);
            var (images, missing) = Expand(inputs);
            foreach (var m in missing) stderr.WriteLine($"skipped: {m}: no such file or folder");
            if (images.Count == 0) throw new DataException(string.Join(", ", inputs), "no images found");
            var existing = PredictCommand.CheckArguments(outDir, existingChoice, modelDir, shard);
            using var segmenter = AnomalySegmenter.LoadOrDefault(modelDir, mode);
            var context = PredictCommand.BuildContext(contextChoice, normalsPath, stderr, cancel);
            using var normals = context?.Normals;
            var samples = images.Select(i => new Sample(i.Path, i.Name, Category(i.Path), false, [])).ToList();
            var summary = DatasetPredictor.Run(segmenter, samples, outDir, progress: new PredictCommand.SyncProgress<PredictProgress>(
                p => Print(console, stderr, p.Record)), cancellationToken: cancel, overlays: true, context: context,
                warnings: PredictCommand.Warnings(stderr), existing: existing, shard: shard);
            int failed = missing.Count + summary.Failures.Count;
            console.MarkupLine($"wrote {summary.Succeeded} result(s) to {Markup.Escape(Path.GetFullPath(outDir))} " +
                $"(<name>_mask.png, <name>_overlay.png, <name>.npy, {summary.ResultsFile})" + (failed > 0 ? $", [red]{failed} failed[/]" : ""));
            return failed > 0 ? PredictCommand.ExitSomeFailed : 0;
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

    /// <summary>An image's category for context modes: the name of the folder holding it.</summary>
    internal static string Category(string imagePath) => Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(imagePath))) ?? "";

    /// <summary>Prints an image's verdict, area and facts and the answer agreeing with them, or why it was skipped.</summary>
    private static void Print(IAnsiConsole console, TextWriter stderr, PredictionRecord r)
    {
        if (r.Error is not null)
        {
            stderr.WriteLine($"skipped: {r.Error}");
            return;
        }
        var area = r.AnomalyFraction!.Value.ToString("P2", CultureInfo.InvariantCulture);
        var facts = r.Facts?.Geometry is { } g
            ? $", {g.Size.ToString().ToLowerInvariant()}, {g.ImageLocation} of the image, {g.RegionCount} region{(g.RegionCount == 1 ? "" : "s")}"
            : "";
        console.MarkupLine($"[bold]{Markup.Escape(r.Image)}[/]: {(r.AnomalyPixels > 0 ? "[red]anomalous[/]" : "[green]normal[/]")}, " +
            $"{r.AnomalyPixels} px ({area}){Markup.Escape(facts)}{(r.AnchorsForced == true ? " [yellow](anchors forced)[/]" : "")}");
        console.WriteLine($"  {r.Text}");
        if (r.RawTextConflicts is { Count: > 0 } conflicts)
            console.MarkupLine($"  [grey](the model's text contradicted the mask on {string.Join(", ", conflicts).ToLowerInvariant()}: " +
                $"rewritten; raw_text in {PredictionFiles.ResultsFile})[/]");
    }

    /// <summary>Image files with their output names: a file is named by its file name, a folder's images by
    /// <c>&lt;folder name&gt;/&lt;relative path&gt;</c>. Inputs that do not exist are returned separately.</summary>
    internal static (List<(string Path, string Name)> Images, List<string> Missing) Expand(IEnumerable<string> inputs)
    {
        var images = new List<(string, string)>();
        var missing = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        void Add(string path, string name)
        {
            var unique = name;
            for (int k = 2; !names.Add(unique); k++) unique = $"{Path.ChangeExtension(name, null)}-{k}{Path.GetExtension(name)}";
            images.Add((path, unique));
        }
        foreach (var input in inputs)
        {
            var full = Path.GetFullPath(input);
            if (File.Exists(full)) Add(full, Path.GetFileName(full));
            else if (Directory.Exists(full))
            {
                var folder = new DirectoryInfo(full).Name;
                foreach (var file in Datasets.FilesUnder(full).Where(f => Datasets.ImageExtensions.Contains(Path.GetExtension(f)))
                             .Order(StringComparer.Ordinal))
                    Add(file, $"{folder}/{Path.GetRelativePath(full, file).Replace(Path.DirectorySeparatorChar, '/')}");
            }
            else missing.Add(input);
        }
        return (images, missing);
    }
}
