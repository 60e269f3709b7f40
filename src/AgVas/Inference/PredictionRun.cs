using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AgVas.Data;
using AgVas.Text;

namespace AgVas.Inference;

/// <summary>What a prediction run does with an output folder that already holds files.</summary>
public enum ExistingOutput
{
    /// <summary>Refuse a non-empty folder (the CLI's default).</summary>
    Refuse,
    /// <summary>Replace a previous run: its recorded outputs, results and manifest are deleted first, every image is predicted.</summary>
    Overwrite,
    /// <summary>Finish an interrupted run (same images and settings): images whose outputs are complete are kept, the rest predicted.</summary>
    Resume,
}

/// <summary>
/// The run manifest <c>agvas-run.json</c> of a prediction folder, and the checks around it. It is written before the first
/// image with <c>"status": "running"</c> and rewritten with <c>"complete"</c> (and the counts) after the last, so a folder
/// whose manifest is not complete holds an interrupted run: <c>agvas eval</c> refuses it, <c>--resume</c> finishes it.
/// Fields: <c>format</c> ("agvas-predictions/1"), <c>status</c>, <c>images</c>, <c>succeeded</c>, <c>failed</c>,
/// <c>mode</c>, <c>overlays</c>, <c>context</c>, <c>fingerprint</c> (SHA-256 of the images' relative paths, one a line).
/// Temporary files of <see cref="AtomicFile"/> left by a killed run are deleted when a run starts in the folder.
/// <para><b>Shards</b> (#20, <see cref="ShardSpec"/>): shard K of N writes its own manifest
/// <c>agvas-run.shard-K-of-N.json</c> and results <c>results.shard-K-of-N.jsonl</c> into a folder shared with the other
/// shards; the manifest also holds <c>shard</c> ("K/N"), <c>shard_key</c> ("path" or "category"), <c>dataset_images</c>
/// and <c>dataset_fingerprint</c> (of the whole dataset: output names follow the whole dataset, so sharded and unsharded
/// runs write the same files). A folder holds either one unsharded run or the shards of one run, never both.
/// <see cref="CheckComplete"/> and <see cref="Evaluation.PredictionDirectory.CheckCoverage"/> refuse a set of shards that is incomplete, mixed or
/// overlapping, naming the shards or files.</para>
/// </summary>
public static class PredictionRun
{
    /// <summary>The manifest's file name.</summary>
    public const string ManifestFile = "agvas-run.json";
    private const string Format = "agvas-predictions/1";
    private const string Running = "running";
    private const string Complete = "complete";

    private static readonly System.Text.RegularExpressions.Regex ShardManifestName = new(@"^agvas-run\.shard-(\d+)-of-(\d+)\.json$");
    private static readonly System.Text.RegularExpressions.Regex ShardResultsName = new(@"^results\.shard-(\d+)-of-(\d+)\.jsonl$");

    /// <summary>The manifest file of a run: <c>agvas-run.json</c>, or <c>agvas-run.shard-K-of-N.json</c> for a shard (N &gt; 1).</summary>
    public static string ManifestName(ShardSpec? shard) => IsSharded(shard) ? ShardManifest(shard!.Index, shard.Count) : ManifestFile;

    // The shard file names by number, for names found in a folder too (which need not be a valid ShardSpec).
    private static string ShardManifest(int index, int count) => $"agvas-run.shard-{index}-of-{count}.json";
    private static string ShardResults(int index, int count) => $"results.shard-{index}-of-{count}.jsonl";

    /// <summary>The results file of a run: <c>results.jsonl</c>, or <c>results.shard-K-of-N.jsonl</c> for a shard (N &gt; 1).</summary>
    public static string ResultsName(ShardSpec? shard) =>
        IsSharded(shard) ? ShardResults(shard!.Index, shard.Count) : PredictionFiles.ResultsFile;

    private static bool IsSharded(ShardSpec? shard) => shard is { Count: > 1 };

    /// <summary>The settings a resumed run must share with the interrupted one, and the other shards of its run.</summary>
    internal sealed record Settings(string Mode, bool Overlays, string Context, string Fingerprint, int Images,
        string? Shard = null, string? ShardKey = null, string? DatasetFingerprint = null, int DatasetImages = 0)
    {
        public static Settings Of(IReadOnlyList<Sample> samples, InstructionType? mode, bool overlays, ContextOptions? context,
            ShardSpec? shard = null, IReadOnlyList<Sample>? dataset = null)
        {
            var settings = new Settings(mode?.ToString() ?? "default", overlays,
                context is { UsesContext: true } ? (context.Batch ? "batch" : "") + (context.Normals is not null ? "+normals" : "") : "none",
                FingerprintOf(samples), samples.Count);
            return IsSharded(shard) && dataset is not null
                ? settings with
                {
                    Shard = shard!.ToString(), ShardKey = ShardSpec.KeyFor(context is { Batch: true }) == Data.ShardKey.Category ? "category" : "path",
                    DatasetFingerprint = FingerprintOf(dataset), DatasetImages = dataset.Count,
                }
                : settings;
        }

        /// <summary>The settings every shard of one run shares.</summary>
        public (string, bool, string, string?, string?, int) RunKey => (Mode, Overlays, Context, ShardKey, DatasetFingerprint, DatasetImages);
    }

    private static string FingerprintOf(IReadOnlyList<Sample> samples) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', samples.Select(s => s.RelativePath)))));

    /// <summary>
    /// Makes <paramref name="outDir"/> ready before any image is predicted: creates it, checks it is writable, deletes stray
    /// temporary files, applies <paramref name="existing"/> and writes a running manifest. Returns, for a resume, the
    /// records (by sample index) of images whose outputs are complete.
    /// </summary>
    internal static Dictionary<int, PredictionRecord> Prepare(string outDir, ExistingOutput existing, Settings settings,
        IReadOnlyList<PredictionPaths> files, IReadOnlyList<Sample> samples, ShardSpec? shard = null)
    {
        CheckOutput(outDir, existing, shard);
        // The shards of a run write into one folder at once: a shard deletes only the temporary files of its own outputs,
        // never those another shard is writing; an unsharded run deletes them all.
        DeleteTemporaryFiles(outDir, IsSharded(shard)
            ? [ManifestName(shard), ResultsName(shard), .. files.SelectMany(f => new[] { f.Map, f.Mask, f.Overlay }).OfType<string>()]
            : null);
        var manifestPath = Path.Combine(outDir, ManifestName(shard));
        var resultsPath = Path.Combine(outDir, ResultsName(shard));
        var kept = new Dictionary<int, PredictionRecord>();
        switch (existing)
        {
            case ExistingOutput.Overwrite:
                // A shard replaces its own earlier outputs; an unsharded run replaces whatever run the folder holds.
                var runs = IsSharded(shard) ? [(resultsPath, manifestPath)]
                    : ShardFiles(outDir).Select(f => (Path.Combine(outDir, f.Results), Path.Combine(outDir, f.Manifest ?? ShardManifest(f.Index, f.Count))))
                        .Append((resultsPath, manifestPath)).ToList();
                foreach (var (results, manifestFile) in runs)
                {
                    foreach (var r in ReadResults(results))
                        if (r.Files is { } previous) DeleteInside(outDir, previous);
                    File.Delete(results);
                    File.Delete(manifestFile);
                }
                break;
            case ExistingOutput.Resume:
                if (ReadManifest(outDir, ManifestName(shard)) is not { } manifest) break;   // a shard's first run (CheckOutput)
                var previousSettings = SettingsOf(manifest, manifestPath);
                if (previousSettings != settings)
                    throw new DataException(manifestPath, $"cannot resume: the run was started with {Describe(previousSettings)}, this one has {Describe(settings)}");
                if (settings.Context != "none") break; // context scores depend on all images: predict them all again
                var index = samples.Select((s, i) => (s.RelativePath, i)).ToDictionary(x => x.RelativePath, x => x.i, StringComparer.Ordinal);
                foreach (var r in ReadResults(resultsPath))
                    if (r is { Error: null, Files: { } f } && index.TryGetValue(r.Image, out int i) && f == files[i]
                        && new[] { f.Map, f.Mask, f.Overlay }.All(p => p is null || File.Exists(Path.Combine(outDir, p))))
                        kept[i] = r;
                break;
        }
        WriteManifest(outDir, settings, Running, null, shard);
        return kept;
    }

    /// <summary>Checks, before any work, that <paramref name="outDir"/> can take a run: it is created if needed and must be
    /// writable (<see cref="Prepare"/> then deletes the stray temporary files of a killed run, which do not count here); a non-empty folder is refused under
    /// <see cref="ExistingOutput.Refuse"/>, and <see cref="ExistingOutput.Resume"/> needs a manifest to resume (a shard's
    /// <see cref="ExistingOutput.Resume"/> starts the shard when it has none).</summary>
    /// <para>A shard (<paramref name="shard"/> with N &gt; 1) shares the folder with the other shards of its run: it is refused
    /// only when the folder holds an unsharded run, shards of another N, or (without --overwrite/--resume) its own earlier run.</para>
    public static void CheckOutput(string outDir, ExistingOutput existing, ShardSpec? shard = null)
    {
        CheckWritable(outDir);
        var manifestName = ManifestName(shard);
        if (IsSharded(shard))
        {
            if (File.Exists(Path.Combine(outDir, ManifestFile)))
                throw new DataException(outDir, $"the output folder holds an unsharded run ({ManifestFile}); shard {shard} would mix with it: use another --out");
            if (ShardFiles(outDir).FirstOrDefault(f => f.Count != shard!.Count) is { Results: not null } foreign)
                throw new DataException(Path.Combine(outDir, foreign.Manifest ?? foreign.Results),
                    $"the output folder holds shards of a {foreign.Count}-way run; shard {shard} (of {shard!.Count}) would mix with them: use another --out");
            if (existing == ExistingOutput.Refuse && new[] { manifestName, ResultsName(shard) }.FirstOrDefault(f => File.Exists(Path.Combine(outDir, f))) is { } own)
                throw new DataException(outDir, $"shard {shard} already ran here (it holds '{own}'): give --overwrite to replace it, " +
                    "--resume to finish it, or another --out");
        }
        else if (existing == ExistingOutput.Refuse && Directory.EnumerateFileSystemEntries(outDir)
                     .Where(e => !AtomicFile.IsTemporary(Path.GetFileName(e))).Order(StringComparer.Ordinal).FirstOrDefault() is { } example)
            throw new DataException(outDir, $"the output folder is not empty (it holds '{Path.GetFileName(example)}'): give --overwrite to replace " +
                "a previous run, --resume to finish an interrupted one, or another --out");
        // A shard's --resume also starts the shard when it never ran: a Kubernetes pod's first run and its retries after a
        // kill share one command line. An unsharded --resume without a run to finish is an error.
        if (existing == ExistingOutput.Resume && !IsSharded(shard) && !File.Exists(Path.Combine(outDir, manifestName)))
            throw new DataException(outDir, $"nothing to resume: no {manifestName} (not a prediction folder, or its run never started)");
    }

    /// <summary>The shard runs' files in a folder (from the manifests and results files present), by index.</summary>
    private static List<(int Index, int Count, string? Manifest, string Results)> ShardFiles(string outDir) =>
        Directory.Exists(outDir)
            ? Directory.EnumerateFiles(outDir).Select(Path.GetFileName).OfType<string>()
                .Select(n => (Name: n, M: ShardManifestName.Match(n), R: ShardResultsName.Match(n)))
                .Where(x => x.M.Success || x.R.Success)
                .Select(x => x.M.Success ? x.M : x.R)
                .Select(m => (Index: int.Parse(m.Groups[1].Value), Count: int.Parse(m.Groups[2].Value)))
                .Distinct()
                .OrderBy(x => x.Count).ThenBy(x => x.Index)
                .Select(x => (x.Index, x.Count,
                    File.Exists(Path.Combine(outDir, ShardManifest(x.Index, x.Count))) ? ShardManifest(x.Index, x.Count) : null,
                    ShardResults(x.Index, x.Count)))
                .ToList()
            : [];

    /// <summary>Marks the run complete with its counts.</summary>
    internal static void Finish(string outDir, Settings settings, int succeeded, int failed, ShardSpec? shard = null) =>
        WriteManifest(outDir, settings, Complete, (succeeded, failed), shard);

    /// <summary>Checks a prediction folder before evaluation: a manifest, when present, must say the run completed.</summary>
    /// <remarks>A folder of shards must hold every shard 0 … N − 1 of one run (same N, settings and dataset), each
    /// complete; with <paramref name="shard"/>, only that shard is checked (<c>agvas test --shard</c> scores its own images
    /// while the other shards may still run).</remarks>
    public static void CheckComplete(string predDir, ShardSpec? shard = null)
    {
        var shards = ShardFiles(predDir);
        if (IsSharded(shard))
        {
            CheckFinished(predDir, ManifestName(shard), required: true);
            return;
        }
        if (shards.Count == 0)
        {
            CheckFinished(predDir, ManifestFile, required: false);
            return;
        }
        if (File.Exists(Path.Combine(predDir, ManifestFile)))
            throw new DataException(predDir, $"the folder mixes an unsharded run ({ManifestFile}) with shards ({shards[0].Results}, …): its maps may come from either");
        int n = shards[^1].Count;
        if (shards.FirstOrDefault(s => s.Count != n) is { Results: not null } other)
            throw new DataException(Path.Combine(predDir, other.Manifest ?? other.Results),
                $"foreign shard: the folder holds shards of a {n}-way run and this one is of a {other.Count}-way run");
        var missing = Enumerable.Range(0, n).Where(k => shards.All(s => s.Index != k || s.Manifest is null)).ToList();
        if (missing.Count > 0)
            throw new DataException(predDir, $"incomplete set of shards: {string.Join(", ", missing.Select(k => $"{k}/{n}"))} missing " +
                $"(no {string.Join(", ", missing.Take(3).Select(k => ShardManifest(k, n)))}); run them with --shard K/{n} into the same --out");
        Settings? first = null;
        foreach (var s in shards)
        {
            var manifest = CheckFinished(predDir, s.Manifest!, required: true)!;
            var settings = SettingsOf(manifest, Path.Combine(predDir, s.Manifest!));
            if (settings.Shard != $"{s.Index}/{s.Count}")
                throw new DataException(Path.Combine(predDir, s.Manifest!), $"duplicated or renamed shard: the file names shard {s.Index}/{s.Count}, its content '{settings.Shard}'");
            if (first is null) first = settings;
            else if (settings.RunKey != first.RunKey)
                throw new DataException(Path.Combine(predDir, s.Manifest!),
                    $"foreign shard: it was run with {Describe(settings)}, shard {first.Shard} with {Describe(first)}");
        }
    }

    /// <summary>
    /// Checks, for evaluation, that the shards in <paramref name="predDir"/> (if any) cover <paramref name="samples"/>
    /// exactly once: every image in one shard's results, none twice, none that the dataset lacks, and the dataset the
    /// shards were cut from is this one. Without shards it does nothing. The caller has checked the set with
    /// <see cref="CheckComplete"/> (<see cref="Evaluation.PredictionDirectory"/> does, and calls this through its own
    /// <see cref="Evaluation.PredictionDirectory.CheckCoverage"/>).
    /// </summary>
    internal static void CheckCoverage(string predDir, IReadOnlyList<Sample> samples)
    {
        var shards = ShardFiles(predDir);
        if (shards.Count == 0) return;
        var owner = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var s in shards)
            foreach (var r in ReadResults(Path.Combine(predDir, s.Results)))
                if (!owner.TryAdd(r.Image, s.Results))
                    throw new DataException(Path.Combine(predDir, s.Results), $"overlapping shards: '{r.Image}' is also in {owner[r.Image]}");
        var dataset = samples.Select(s => s.RelativePath).ToHashSet(StringComparer.Ordinal);
        if (owner.Keys.FirstOrDefault(i => !dataset.Contains(i)) is { } extra)
            throw new DataException(Path.Combine(predDir, owner[extra]), $"foreign shard: its image '{extra}' is not in the dataset being evaluated");
        var uncovered = samples.Where(s => !owner.ContainsKey(s.RelativePath)).Select(s => s.RelativePath).ToList();
        if (uncovered.Count > 0)
            throw new DataException(predDir, $"the shards do not cover the dataset: {uncovered.Count} image(s) in no shard's results, e.g. '{uncovered[0]}'");
        var manifest = ReadManifest(predDir, shards[0].Manifest!)!;
        var settings = SettingsOf(manifest, Path.Combine(predDir, shards[0].Manifest!));
        if (settings.DatasetFingerprint != FingerprintOf(samples))
            throw new DataException(Path.Combine(predDir, shards[0].Manifest!),
                $"the shards were cut from another listing of the images ({settings.DatasetImages} images, fingerprint {settings.DatasetFingerprint?[..12]}); " +
                $"the dataset being evaluated has {samples.Count}");
    }

    /// <summary>The results files of a folder: <c>results.jsonl</c> and every shard's, that exist.</summary>
    public static IEnumerable<string> ResultFiles(string predDir) =>
        new[] { Path.Combine(predDir, PredictionFiles.ResultsFile) }
            .Concat(ShardFiles(predDir).Select(s => Path.Combine(predDir, s.Results)))
            .Where(File.Exists);

    private static JsonObject? CheckFinished(string predDir, string name, bool required)
    {
        var path = Path.Combine(predDir, name);
        if (ReadManifest(predDir, name) is not { } manifest)
            return required ? throw new DataException(path, "the run manifest is missing: the shard never started here") : null;
        var status = manifest["status"]?.GetValue<string>();
        if (status != Complete)
            throw new DataException(path,
                $"the prediction run did not finish (status '{status}'): its maps may be a mixture; finish it with agvas predict --resume (same --out), or predict again with --overwrite");
        return manifest;
    }

    private static JsonObject? ReadManifest(string outDir, string name = ManifestFile)
    {
        var path = Path.Combine(outDir, name);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new DataException(path, "run manifest is not a JSON object");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new DataException(path, $"run manifest is not valid JSON ({e.Message})", e);
        }
    }

    private static Settings SettingsOf(JsonObject m, string path)
    {
        try
        {
            if (m["format"]?.GetValue<string>() != Format) throw new DataException(path, $"run manifest format is not {Format}");
            return new Settings(m["mode"]!.GetValue<string>(), m["overlays"]!.GetValue<bool>(), m["context"]!.GetValue<string>(),
                m["fingerprint"]!.GetValue<string>(), m["images"]!.GetValue<int>(), m["shard"]?.GetValue<string>(),
                m["shard_key"]?.GetValue<string>(), m["dataset_fingerprint"]?.GetValue<string>(), m["dataset_images"]?.GetValue<int>() ?? 0);
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException)
        {
            throw new DataException(path, "run manifest lacks a field or has one of the wrong type", e);
        }
    }

    private static string Describe(Settings s) =>
        $"{s.Images} image(s) (fingerprint {s.Fingerprint[..12]}), mode {s.Mode}, overlays {(s.Overlays ? "on" : "off")}, context {s.Context}";

    private static void WriteManifest(string outDir, Settings s, string status, (int Succeeded, int Failed)? counts, ShardSpec? shard)
    {
        var o = new JsonObject
        {
            ["format"] = Format, ["status"] = status, ["images"] = s.Images,
            ["succeeded"] = counts?.Succeeded, ["failed"] = counts?.Failed,
            ["mode"] = s.Mode, ["overlays"] = s.Overlays, ["context"] = s.Context, ["fingerprint"] = s.Fingerprint,
        };
        if (s.Shard is not null)
        {
            o["shard"] = s.Shard;
            o["shard_key"] = s.ShardKey;
            o["dataset_images"] = s.DatasetImages;
            o["dataset_fingerprint"] = s.DatasetFingerprint;
        }
        AtomicFile.WriteAllText(Path.Combine(outDir, ManifestName(shard)), o.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>The records of a results file; lines that do not parse (a line cut by a kill) are ignored.</summary>
    internal static IEnumerable<PredictionRecord> ReadResults(string path) =>
        File.Exists(path) ? File.ReadLines(path).Select(PredictionRecord.TryParse).OfType<PredictionRecord>() : [];

    private static void DeleteInside(string outDir, PredictionPaths files)
    {
        var root = Path.GetFullPath(outDir) + Path.DirectorySeparatorChar;
        foreach (var f in new[] { files.Map, files.Mask, files.Overlay })
            if (f is not null && Path.GetFullPath(Path.Combine(outDir, f)) is var full && full.StartsWith(root, StringComparison.Ordinal) && File.Exists(full))
                File.Delete(full);
    }

    private static void CheckWritable(string outDir)
    {
        if (File.Exists(outDir)) throw new DataException(outDir, "the output folder is a file");
        try
        {
            Directory.CreateDirectory(outDir);
            var probe = Path.Combine(outDir, $".agvas-write-test.{Guid.NewGuid():N}.tmp");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataException(outDir, $"the output folder cannot be written ({e.Message})", e);
        }
    }

    /// <summary>Deletes, under <paramref name="outDir"/>, the temporary files <see cref="AtomicFile"/> writes (<c>.name.&lt;32 hex&gt;.tmp</c>):
    /// all of them, or with <paramref name="owned"/> (paths relative to <paramref name="outDir"/>) only those written for one of these files.</summary>
    internal static void DeleteTemporaryFiles(string outDir, IEnumerable<string>? owned = null)
    {
        var targets = owned?.Select(f => Path.GetFullPath(Path.Combine(outDir, f))).ToHashSet(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(outDir, ".*.tmp", new EnumerationOptions
            { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint }))
            if (Path.GetFileName(file) is var name && AtomicFile.IsTemporary(name)
                && (targets is null || targets.Contains(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, AtomicFile.TargetOf(name))))))
                File.Delete(file);
    }
}
