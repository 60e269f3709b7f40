using System.CommandLine;
using System.Diagnostics;
using AgVas.Data;
using AgVas.Synthesis;
using Spectre.Console;

namespace AgVas.Cli.Commands;

/// <summary><c>agvas synth</c>: makes Anomaly-Seg samples by painting synthetic defects on normal images (docs/design.md §8, docs/synthesis.md).</summary>
internal static class SynthCommand
{
    public static Command Create()
    {
        var normals = new Option<string[]>("--normals")
        {
            Description = "Sources of normal images: 'procedural' (textures), 'scenes' (objects on backgrounds), 'tissue' (procedural mucosa and skin) or a dataset (folder, MVTec, VisA, meta.json, CSV manifest such as real/dev.csv; its normal images); list several to mix them (see --normals-weights)",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var weights = new Option<double[]>("--normals-weights")
        {
            Description = "Relative weight of each --normals source, in the same order (e.g. --normals procedural dev.csv --normals-weights 0.3 0.7); default equal",
            AllowMultipleArgumentsPerToken = true,
        };
        var output = new Option<string>("--out") { Description = "Output directory (MVTec layout + manifest.csv)", Required = true };
        var count = new Option<int>("--count") { Description = "Number of samples", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Master seed (same seed: identical files)", DefaultValueFactory = _ => 0UL };
        var size = new Option<int>("--size") { Description = "Side of the square output images", DefaultValueFactory = _ => 256 };
        var normalRatio = new Option<double>("--normal-ratio") { Description = "Fraction of samples kept normal (empty mask)", DefaultValueFactory = _ => 0.2 };
        var artifactRatio = new Option<double>("--artifact-ratio")
        {
            Description = "Fraction of samples (normal or not) that first get acquisition artifacts, never in the mask: aperture, frame, vignette, glare, overlay text",
        };
        var kinds = new Option<string[]>("--kinds")
        {
            Description = "Anomaly kinds (default all but mass, which is drawn only when named): " + string.Join(", ", AnomalyKinds.All.Select(AnomalyKinds.Name)),
            AllowMultipleArgumentsPerToken = true,
        };
        var sizes = new Option<string[]>("--sizes") { Description = "Defect sizes (default all): small, medium, large", AllowMultipleArgumentsPerToken = true };
        var foreground = new Option<bool>("--foreground") { Description = "Place defects only on the estimated object foreground" };
        var preview = new Option<bool>("--preview") { Description = "Also write <out>/contact_sheet.png with the first samples and their mask contours" };
        var threads = new Option<int>("--threads") { Description = "Worker threads (output does not depend on it)", DefaultValueFactory = _ => Environment.ProcessorCount };

        var command = new Command("synth", "Make Anomaly-Seg training samples: synthetic defects painted on normal images, with exact masks")
        {
            normals, weights, output, count, seed, size, normalRatio, artifactRatio, kinds, sizes, foreground, preview, threads,
        };
        command.SetAction(parse =>
        {
            try
            {
                int n = parse.GetValue(count);
                if (n < 1) throw new ArgumentException($"--count must be at least 1, got {n}");
                var options = new SynthesisOptions(
                    Size: parse.GetValue(size),
                    NormalRatio: parse.GetValue(normalRatio),
                    Kinds: ParseKinds(parse.GetValue(kinds)),
                    Sizes: ParseSizes(parse.GetValue(sizes)),
                    ForegroundOnly: parse.GetValue(foreground),
                    Seed: parse.GetValue(seed),
                    SourceWeights: parse.GetValue(weights) is { Length: > 0 } w ? w : null,
                    ArtifactRatio: parse.GetValue(artifactRatio));
                var sources = parse.GetValue(normals)!.Select(spec => NormalSources.Resolve(spec)).ToList();
                var synthesizer = new AnomalySynthesizer(sources, options);
                string outDir = parse.GetValue(output)!;
                bool wantPreview = parse.GetValue(preview);
                const int previewCount = 24;
                var previewItems = new SheetItem?[Math.Min(n, previewCount)];
                var sw = Stopwatch.StartNew();
                IReadOnlyList<ManifestRow> rows = [];
                AnsiConsole.Progress().Start(ctx =>
                {
                    var task = ctx.AddTask("synthesizing", maxValue: n);
                    rows = AnomalySegWriter.Write(synthesizer, n, outDir, parse.GetValue(threads),
                        new Progress<int>(done => task.Value = done),
                        wantPreview ? s => { if (s.Index < previewItems.Length) previewItems[s.Index] = new SheetItem(s.Image, s.Mask, Label(s)); } : null);
                    task.Value = n;
                });
                sw.Stop();
                var table = new Table().AddColumns("category", "defect", "samples");
                foreach (var g in rows.GroupBy(r => (r.Category, r.Defect)).OrderBy(g => g.Key.Category).ThenBy(g => g.Key.Defect))
                    table.AddRow(Markup.Escape(g.Key.Category), Markup.Escape(g.Key.Defect), g.Count().ToString());
                AnsiConsole.Write(table);
                AnsiConsole.MarkupLineInterpolated($"{n} samples in {sw.Elapsed.TotalSeconds:F1} s ({n / sw.Elapsed.TotalSeconds:F0}/s) -> {Path.Combine(outDir, "manifest.csv")}");
                if (wantPreview)
                {
                    string sheet = Path.Combine(outDir, "contact_sheet.png");
                    ContactSheet.Save(previewItems.Select(p => p!).ToList(), sheet);
                    AnsiConsole.MarkupLineInterpolated($"contact sheet: {sheet}");
                }
                return 0;
            }
            catch (Exception e) when (e is AgVasException or ArgumentException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"agvas synth: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    internal static string Label(SynthSample s) => s.Size is { } size ? $"{s.Defect} ({size.ToString().ToLowerInvariant()})" : s.Defect;

    private static IReadOnlyList<AnomalyKind>? ParseKinds(string[]? names)
    {
        if (names is null || names.Length == 0) return null;
        return names.SelectMany(n => n.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(n =>
            AnomalyKinds.TryParse(n, out var k) ? k : throw new ArgumentException("--kinds: " + AnomalyKinds.Unknown(n))).Distinct().ToList();
    }

    private static IReadOnlyList<DefectSize>? ParseSizes(string[]? names)
    {
        if (names is null || names.Length == 0) return null;
        return names.SelectMany(n => n.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(n =>
            Enum.TryParse<DefectSize>(n, ignoreCase: true, out var s) ? s
                : throw new ArgumentException($"--sizes: unknown size '{n}' (known: small, medium, large)")).Distinct().ToList();
    }

}
