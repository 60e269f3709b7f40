using System.Diagnostics;
using System.Text.Json;
using AgVas.Data;
using AgVas.Evaluation;

namespace AgVas.Bench;

/// <summary>
/// `eval`: the full `agvas eval` protocol at scale. Generates a synthetic test set on disk (default 2,000 images of
/// 256x256 in 10 categories: float32 maps, ground-truth masks with several regions, 20% normal images, no predicted
/// masks so IoU goes through the F1-max threshold), evaluates it as `agvas eval` does (Datasets.Load, Evaluator with
/// every metric incl. AUPRO, the three report files), reports wall time and peak working set, then times
/// tools/golden/eval_reference.py (scikit-learn / scikit-image) on the same files, checks that the numbers agree and
/// prints the speed-up. Targets: &lt; 20 s, &lt; 4 GiB, ≥ 5x faster than the Python reference.
/// Usage: eval [--images N] [--categories C] [--size S] [--keep] [--no-python] [--dir D (reuse or create; kept)]
/// </summary>
internal static class EvalBench
{
    private const string Python = "/usr/bin/python3";

    public static int Run(string[] args)
    {
        int images = Arg(args, "--images", 2000), categories = Arg(args, "--categories", 10), size = Arg(args, "--size", 256);
        bool python = !args.Contains("--no-python");
        int dirArg = Array.IndexOf(args, "--dir");
        bool keep = args.Contains("--keep") || dirArg >= 0;
        var root = dirArg >= 0 && dirArg + 1 < args.Length ? Path.GetFullPath(args[dirArg + 1]) : Path.Combine(Path.GetTempPath(), $"agvas-evalbench-{Guid.NewGuid():N}");
        string data = Path.Combine(root, "data"), pred = Path.Combine(root, "pred"), output = Path.Combine(root, "out");
        try
        {
            var sw = Stopwatch.StartNew();
            bool reuse = File.Exists(Path.Combine(data, SyntheticEvaluationSet.ManifestFile));
            if (!reuse)
            {
                SyntheticEvaluationSet.Write(data, pred, new SyntheticEvaluationSetOptions
                {
                    Categories = categories,
                    ImagesPerCategory = images / categories,
                    Width = size,
                    Height = size,
                    NormalFraction = 0.2,
                    MaxRegions = 4,
                    WritePredictedMasks = false,
                    Seed = 7,
                });
            }
            Console.WriteLine($"{images} images of {size}x{size} in {categories} categories ({(double)images * size * size / 1e6:F0}M pixels) under {root}, {(reuse ? "reused" : $"generated in {sw.Elapsed.TotalSeconds:F1} s")}");
            GC.Collect();
            GC.WaitForPendingFinalizers();
            using var self = Process.GetCurrentProcess();
            long peakBefore = self.PeakWorkingSet64;
            var cpuBefore = self.TotalProcessorTime;
            long allocatedBefore = GC.GetTotalAllocatedBytes();
            int gen2Before = GC.CollectionCount(2);

            sw.Restart();
            var samples = Datasets.Load(Path.Combine(data, SyntheticEvaluationSet.ManifestFile));
            var report = new Evaluator().Evaluate(samples, new PredictionDirectory(pred));
            ReportWriter.WriteAll(report, output);
            var seconds = sw.Elapsed.TotalSeconds;
            self.Refresh();
            long peak = self.PeakWorkingSet64;
            var cpu = (self.TotalProcessorTime - cpuBefore).TotalSeconds;
            Console.WriteLine($"C# evaluation (as `agvas eval`, all metrics incl. AUPRO): {seconds:F2} s wall, {cpu:F2} s CPU, peak working set {peak / 1048576.0:F0} MiB " +
                              $"(process peak before evaluating: {peakBefore / 1048576.0:F0} MiB), {Environment.ProcessorCount} cores; " +
                              $"{(GC.GetTotalAllocatedBytes() - allocatedBefore) / 1048576.0:F0} MiB allocated, {GC.CollectionCount(2) - gen2Before} gen2 collections");
            Console.WriteLine(ReportWriter.ToMarkdown(report));
            Console.WriteLine($"target < 20 s: {(seconds < 20 ? "met" : "MISSED")}; target < 4 GiB: {(peak < 4L << 30 ? "met" : "MISSED")}");

            if (!python) return 0;
            if (!File.Exists(Python)) { Console.WriteLine($"{Python} not found: reference comparison skipped"); return 0; }
            var script = Path.Combine(RepoRoot(), "tools", "golden", "eval_reference.py");
            var referenceJson = Path.Combine(root, "reference.json");
            sw.Restart();
            var (code, stderr) = RunProcess(Python, script, "--manifest", Path.Combine(data, SyntheticEvaluationSet.ManifestFile), "--pred", pred, "--out", referenceJson);
            var pythonSeconds = sw.Elapsed.TotalSeconds;
            if (code != 0) { Console.WriteLine($"reference failed ({code}): {stderr}"); return 1; }
            // The script reports its own CPU time (a finished child's CPU time cannot be read on Linux).
            var cpuMatch = System.Text.RegularExpressions.Regex.Match(stderr, @"([0-9.]+) s CPU");
            double pythonCpu = cpuMatch.Success ? double.Parse(cpuMatch.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : double.NaN;
            Console.WriteLine($"Python reference (scikit-learn/scikit-image, same files): {pythonSeconds:F2} s wall for the process, script: {stderr.Trim()}");
            var (maxDiff, maxThresholdDiff, nullMismatches) = Compare(referenceJson, Path.Combine(output, ReportWriter.JsonFile));
            Console.WriteLine($"agreement: max |difference| {maxDiff:E2} over all metrics except thresholds, {maxThresholdDiff:E2} on F1 thresholds, {nullMismatches} null mismatches");
            double speedup = pythonSeconds / seconds;
            Console.WriteLine($"speed-up: {speedup:F1}x in wall time (process vs evaluation), {pythonCpu / cpu:F1}x in CPU time (script vs evaluation) (target >= 5x: {(speedup >= 5 ? "met" : "MISSED")})");
            return maxDiff < 1e-6 && nullMismatches == 0 ? 0 : 1;
        }
        finally
        {
            if (!keep && Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    private static (double Max, double MaxThreshold, int NullMismatches) Compare(string referencePath, string oursPath)
    {
        using var reference = JsonDocument.Parse(File.ReadAllText(referencePath));
        using var ours = JsonDocument.Parse(File.ReadAllText(oursPath));
        double max = 0, maxThreshold = 0;
        int nulls = 0;
        void CompareObjects(JsonElement want, JsonElement got)
        {
            foreach (var p in want.EnumerateObject())
            {
                var g = got.GetProperty(p.Name);
                if ((p.Value.ValueKind == JsonValueKind.Null) != (g.ValueKind == JsonValueKind.Null)) { nulls++; continue; }
                if (p.Value.ValueKind != JsonValueKind.Number) continue;
                double d = Math.Abs(p.Value.GetDouble() - g.GetDouble());
                if (p.Name == "f1_threshold") maxThreshold = Math.Max(maxThreshold, d);
                else max = Math.Max(max, d);
            }
        }
        foreach (var c in reference.RootElement.GetProperty("categories").EnumerateObject())
            CompareObjects(c.Value, ours.RootElement.GetProperty("categories").GetProperty(c.Name));
        CompareObjects(reference.RootElement.GetProperty("mean"), ours.RootElement.GetProperty("mean"));
        return (max, maxThreshold, nulls);
    }

    private static (int Code, string Stderr) RunProcess(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stderr.Result);
    }

    private static int Arg(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback;
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "AgVas.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no AgVas.sln above {AppContext.BaseDirectory}");
    }
}
