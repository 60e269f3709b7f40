using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using AgVas.Cli.Commands;
using AgVas.Data;
using AgVas.Inference;
using AgVas.Tests.Training;
using AgVas.Training;

namespace AgVas.Tests.Reliability;

/// <summary>
/// Issue #18's corpus through the commands (<c>segment</c>, <c>predict</c>, <c>eval</c>, <c>train</c>,
/// <c>model summary</c>) with an untrained tiny model: 0 crashes (no stack trace, an exit code of the documented set),
/// 0 hangs (each call bounded), every error naming its file, every good image's outputs intact at its own size.
/// </summary>
[Collection(SerialTrainingCollection.Name)]
public sealed class CorpusCliTests : IDisposable
{
    /// <summary>No single invocation may take longer (a hang).</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    private readonly string dir = Directory.CreateTempSubdirectory("agvas-corpus-").FullName;
    private readonly string model;

    public CorpusCliTests()
    {
        model = Path.Combine(dir, "model");
        using var m = AgVasTrainingModel.Create("tiny", 0);
        m.Save(model);
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>Runs a CLI command in-process within <see cref="Bound"/>, and checks it did not crash.</summary>
    internal static (int Code, string Out, string Err) Run(params string[] args)
    {
        var root = new RootCommand();
        foreach (var c in new[] { EvalCommand.Create(), TrainCommand.Create(), PredictCommand.Create(), SegmentCommand.Create(), TestCommand.Create(), ModelCommand.Create() })
            root.Subcommands.Add(c);
        var output = new StringWriter();
        var error = new StringWriter();
        var task = Task.Run(() => root.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error }));
        Assert.True(task.Wait(Bound), $"hang: {string.Join(' ', args)} did not finish within {Bound}");
        var (code, err) = (task.Result, error.ToString());
        Assert.True(code is 0 or 1 or 3, $"{string.Join(' ', args)}: exit code {code}\n{err}");
        Assert.DoesNotContain("   at ", err);            // no stack trace: every error is a sentence
        Assert.DoesNotContain("Unhandled exception", err);
        return (code, output.ToString(), err);
    }

    private static List<JsonObject> Records(string outDir) =>
        [.. File.ReadAllLines(Path.Combine(outDir, PredictionFiles.ResultsFile)).Select(l => (JsonObject)JsonNode.Parse(l)!)];

    private static void AssertNoTemporaryFiles(string root) =>
        Assert.Empty(Directory.EnumerateFiles(root, "*.tmp", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }));

    /// <summary>Must reach: a folder mixing good files with bad and extreme ones gives every good image its own mask of
    /// its own size, names every bad file with a reason, and never crashes — through segment and predict.</summary>
    [Fact]
    public void MixedFolderGivesEveryGoodImageItsOwnOutputsAndNamesEveryBadFile()
    {
        var stopwatch = Stopwatch.StartNew();
        var images = Path.Combine(dir, "mixed");
        var files = BadInputCorpus.Write(images, BadInputCorpus.All());
        Assert.True(files.Count(f => !f.Good) >= 200);

        var segmentOut = Path.Combine(dir, "segment");
        var (code, _, err) = Run("segment", images, "--model", model, "--out", segmentOut, "--mode", "DirectSegmentation");
        Assert.Equal(PredictCommand.ExitSomeFailed, code);
        CheckRun(segmentOut, files, err, f => $"mixed/{f.Name}", images, overlays: true);

        var predictOut = Path.Combine(dir, "predict");
        (code, _, err) = Run("predict", "--data", images, "--model", model, "--out", predictOut, "--mode", "DirectSegmentation");
        Assert.Equal(PredictCommand.ExitSomeFailed, code);
        CheckRun(predictOut, files, err, f => f.Name, images, overlays: false);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromMinutes(2), $"took {stopwatch.Elapsed}");
    }

    private static void CheckRun(string outDir, List<CorpusFile> files, string err, Func<CorpusFile, string> recordName, string images, bool overlays)
    {
        var records = Records(outDir).ToDictionary(r => r["image"]!.GetValue<string>(), StringComparer.Ordinal);
        Assert.Equal(files.Count, records.Count);
        var maskFiles = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var f in files)
        {
            var r = records[recordName(f)];
            var path = Path.Combine(images, f.Name);
            if (!f.Good)
            {
                var error = r["error"]?.GetValue<string>();
                Assert.True(error is not null, $"{BadInputCorpus.Describe(f)} was not refused");
                Assert.Contains(path, error);
                Assert.Contains($"skipped: {error}", err);
                continue;
            }
            Assert.True(r["error"] is null, $"{BadInputCorpus.Describe(f)} failed: {r["error"]}");
            var mask = ImageIO.LoadMask(Path.Combine(outDir, r["mask"]!.GetValue<string>()));
            Assert.Equal((f.Width, f.Height), (mask.Width, mask.Height));
            Assert.True(maskFiles.Add(r["mask"]!.GetValue<string>()), $"{f.Name} shares its mask file {r["mask"]}");
            Assert.Equal([f.Height, f.Width], Npy.Read(Path.Combine(outDir, r["map"]!.GetValue<string>())).Shape);
            if (overlays) Assert.Equal(f.Width, ImageIO.ReadSize(Path.Combine(outDir, r["overlay"]!.GetValue<string>())).Width);
            Assert.True(r["score"]!.GetValue<double>() is >= 0 and <= 1);
        }
        Assert.All(err.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => Assert.StartsWith("skipped: ", line));
        AssertNoTemporaryFiles(outDir);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, PredictionRun.ManifestFile)))!;
        Assert.Equal("complete", manifest["status"]!.GetValue<string>());
        Assert.Equal(files.Count(f => !f.Good), manifest["failed"]!.GetValue<int>());
    }

    /// <summary>Empty, looping and odd folders: a clear error or the good files processed, never a hang.</summary>
    [Fact]
    public void EmptyLoopingAndOddFoldersAreHandled()
    {
        var empty = Path.Combine(dir, "empty");
        Directory.CreateDirectory(empty);
        var (code, _, err) = Run("segment", empty, "--model", model, "--out", Path.Combine(dir, "o1"));
        Assert.Equal(1, code);
        Assert.Contains("no images found", err);
        (code, _, err) = Run("predict", "--data", empty, "--model", model, "--out", Path.Combine(dir, "o2"));
        Assert.Equal(1, code);
        Assert.Contains(empty, err);

        var looping = Path.Combine(dir, "looping");
        Directory.CreateDirectory(Path.Combine(looping, "sub"));
        File.WriteAllBytes(Path.Combine(looping, "sub", "good.png"), BadInputCorpus.Seeds()[0].Bytes);
        File.CreateSymbolicLink(Path.Combine(looping, "sub", "loop"), looping);
        Directory.CreateDirectory(Path.Combine(looping, "folder.png"));     // a folder named like an image
        File.CreateSymbolicLink(Path.Combine(looping, "dangling.png"), Path.Combine(dir, "nowhere.png"));
        (code, _, err) = Run("segment", looping, "--model", model, "--out", Path.Combine(dir, "o3"), "--mode", "DirectSegmentation");
        Assert.Equal(PredictCommand.ExitSomeFailed, code);
        var records = Records(Path.Combine(dir, "o3"));
        Assert.Single(records, r => r["image"]!.GetValue<string>().EndsWith("good.png") && r["error"] is null);
        Assert.Contains("dangling.png: file not found: a broken symbolic link", err);
        (code, _, err) = Run("predict", "--data", looping, "--model", model, "--out", Path.Combine(dir, "o4"), "--mode", "DirectSegmentation");
        Assert.True(code is 0 or 3, err);

        (code, _, err) = Run("segment", Path.Combine(dir, "missing"), "--model", model, "--out", Path.Combine(dir, "o5"));
        Assert.Equal(1, code);
        Assert.Contains("missing", err);
    }

    /// <summary>Arguments are checked before any work: an --out that is a file, or not empty, and a broken model, are
    /// refused before a single image is predicted (nothing written).</summary>
    [Fact]
    public void ArgumentsAreCheckedBeforeAnyWork()
    {
        var images = Path.Combine(dir, "few");
        BadInputCorpus.Write(images, BadInputCorpus.Seeds().Take(2));
        var file = Path.Combine(dir, "a-file");
        File.WriteAllText(file, "x");
        var (code, _, err) = Run("predict", "--data", images, "--model", model, "--out", file);
        Assert.Equal(1, code);
        Assert.Contains($"{file}: the output folder is a file", err);

        var used = Path.Combine(dir, "used");
        Directory.CreateDirectory(used);
        File.WriteAllText(Path.Combine(used, "notes.txt"), "mine");
        (code, _, err) = Run("predict", "--data", images, "--model", model, "--out", used);
        Assert.Equal(1, code);
        Assert.Contains("not empty", err);
        Assert.Contains("--overwrite", err);
        Assert.Equal(["notes.txt"], Directory.GetFileSystemEntries(used).Select(Path.GetFileName));

        (code, _, err) = Run("predict", "--data", images, "--model", model, "--out", Path.Combine(dir, "fresh"), "--resume");
        Assert.Equal(1, code);
        Assert.Contains("nothing to resume", err);
        (code, _, err) = Run("segment", images, "--model", model, "--out", Path.Combine(dir, "fresh"), "--resume", "--overwrite");
        Assert.Equal(1, code);
        Assert.Contains("not both", err);
    }

    /// <summary>Re-runs never mix: --overwrite replaces, --resume keeps complete images; a failed image keeps no old output.</summary>
    [Fact]
    public void OverwriteReplacesAndAFailedImageKeepsNoOldOutput()
    {
        var images = Path.Combine(dir, "rerun");
        var seeds = BadInputCorpus.Write(images, BadInputCorpus.Seeds().Take(3));
        var outDir = Path.Combine(dir, "out");
        var (code, _, err) = Run("predict", "--data", images, "--model", model, "--out", outDir, "--mode", "DirectSegmentation");
        Assert.True(code == 0, err);
        var first = Records(outDir).ToDictionary(r => r["image"]!.GetValue<string>());
        File.WriteAllBytes(Path.Combine(images, seeds[1].Name), seeds[1].Bytes[..100]); // now truncated
        (code, _, err) = Run("predict", "--data", images, "--model", model, "--out", outDir, "--mode", "DirectSegmentation");
        Assert.Equal(1, code);
        Assert.Contains("not empty", err);
        (code, _, err) = Run("predict", "--data", images, "--model", model, "--out", outDir, "--mode", "DirectSegmentation", "--overwrite");
        Assert.Equal(PredictCommand.ExitSomeFailed, code);
        Assert.False(File.Exists(Path.Combine(outDir, first[seeds[1].Name]["map"]!.GetValue<string>())), "the failed image kept its earlier map");
        Assert.False(File.Exists(Path.Combine(outDir, first[seeds[1].Name]["mask"]!.GetValue<string>())));
        Assert.True(File.Exists(Path.Combine(outDir, first[seeds[0].Name]["map"]!.GetValue<string>())));
        (code, _, err) = Run("predict", "--data", images, "--model", model, "--out", outDir, "--mode", "DirectSegmentation", "--resume");
        Assert.Equal(PredictCommand.ExitSomeFailed, code); // the bad image is tried again and fails again; the others are kept
    }

    /// <summary>Bad model directories: truncated weights, lying safetensors headers, bad configs. <c>model summary</c> and
    /// <c>predict</c> refuse each with one line naming the file, before any image, without allocating a claimed size.</summary>
    [Fact]
    public void BadModelDirectoriesAreRefusedNamingTheFile()
    {
        var images = Path.Combine(dir, "few");
        BadInputCorpus.Write(images, BadInputCorpus.Seeds().Take(1));
        var variants = ModelCorpus.Variants(model, Path.Combine(dir, "models")).ToList();
        Assert.True(variants.Count >= 25, $"{variants.Count} model variants");
        long allocatedBefore = GC.GetTotalAllocatedBytes();
        foreach (var (variant, badFile, problem) in variants)
        {
            var (code, _, err) = Run("model", "summary", "--model", variant);
            Assert.True(code == 1, $"{variant} ({problem}): model summary exit {code}");
            Assert.Contains(badFile, err);
            Assert.Single(err.TrimEnd().Split('\n'));
            var outDir = Path.Combine(dir, "p-" + Path.GetFileName(variant));
            (code, _, err) = Run("predict", "--data", images, "--model", variant, "--out", outDir);
            Assert.True(code == 1, $"{variant} ({problem}): predict exit {code}");
            Assert.Contains(badFile, err);
            Assert.False(File.Exists(Path.Combine(outDir, PredictionFiles.ResultsFile)), $"{variant}: predicted despite a bad model");
        }
        long allocated = GC.GetTotalAllocatedBytes() - allocatedBefore;
        Assert.True(allocated < 1L << 30, $"{allocated} bytes allocated for {variants.Count} bad models");
    }

    /// <summary>Bad training configs (wrong types, unknown keys, not YAML) and misuse of --resume name the file.</summary>
    [Fact]
    public void BadTrainingConfigsAreRefusedNamingTheFile()
    {
        var good = "model: { preset: tiny }\ndata:\n  sources:\n    - synth: { count: 2, size: 32 }\noptim: { lr: 1.0e-3, warmup_steps: 1, batch_size: 1, grad_accum: 1 }\nsteps: 1\nseed: 1\n";
        var bad = new Dictionary<string, string>
        {
            ["empty.yaml"] = "",
            ["not-yaml.yaml"] = "steps: [1, 2\n  : : :",
            ["binary.yaml"] = "\0\u0001\u0002PNG",
            ["steps-text.yaml"] = good.Replace("steps: 1", "steps: many"),
            ["steps-negative.yaml"] = good.Replace("steps: 1", "steps: -4"),
            ["lr-list.yaml"] = good.Replace("lr: 1.0e-3", "lr: [1, 2]"),
            ["unknown-top.yaml"] = good + "colour: blue\n",
            ["unknown-nested.yaml"] = good.Replace("warmup_steps", "warmpu_steps"),
            ["preset-unknown.yaml"] = good.Replace("preset: tiny", "preset: enormous"),
            ["data-missing.yaml"] = good.Replace("- synth: { count: 2, size: 32 }", "- path: /nonexistent/dataset"),
            ["batch-zero.yaml"] = good.Replace("batch_size: 1", "batch_size: 0"),
            ["seed-float.yaml"] = good.Replace("seed: 1", "seed: 1.5"),
        };
        foreach (var (name, text) in bad)
        {
            var path = Path.Combine(dir, "configs", name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, text);
            var (code, _, err) = Run("train", "--config", path, "--out", Path.Combine(dir, "runs", name));
            Assert.True(code == 1, $"{name}: exit {code}");
            Assert.True(err.Contains(path) || err.Contains("/nonexistent/dataset"), $"{name}: {err}");
            Assert.Single(err.TrimEnd().Split('\n'));
        }
        var goodPath = Path.Combine(dir, "configs", "good.yaml");
        File.WriteAllText(goodPath, good);
        var run = Path.Combine(dir, "runs", "good");
        var (c, _, e) = Run("train", "--config", goodPath, "--out", run, "--resume");
        Assert.Equal(1, c);
        Assert.Contains("nothing to resume", e);
        (c, _, e) = Run("train", "--config", goodPath, "--out", run);
        Assert.True(c == 0, e);
        (c, _, e) = Run("train", "--config", goodPath, "--out", run);
        Assert.Equal(1, c);
        Assert.Contains("holds a training run", e);
        (c, _, e) = Run("train", "--config", goodPath, "--out", run, "--overwrite");
        Assert.True(c == 0, e);
    }
}
