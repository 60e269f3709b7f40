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
/// </summary>
public static class PredictionRun
{
    /// <summary>The manifest's file name.</summary>
    public const string ManifestFile = "agvas-run.json";
    private const string Format = "agvas-predictions/1";
    private const string Running = "running";
    private const string Complete = "complete";

    /// <summary>The settings a resumed run must share with the interrupted one.</summary>
    internal sealed record Settings(string Mode, bool Overlays, string Context, string Fingerprint, int Images)
    {
        public static Settings Of(IReadOnlyList<Sample> samples, InstructionType? mode, bool overlays, ContextOptions? context) => new(
            mode?.ToString() ?? "default", overlays,
            context is { UsesContext: true } ? (context.Batch ? "batch" : "") + (context.Normals is not null ? "+normals" : "") : "none",
            Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', samples.Select(s => s.RelativePath))))),
            samples.Count);
    }

    /// <summary>
    /// Makes <paramref name="outDir"/> ready before any image is predicted: creates it, checks it is writable, deletes stray
    /// temporary files, applies <paramref name="existing"/> and writes a running manifest. Returns, for a resume, the
    /// records (by sample index) of images whose outputs are complete.
    /// </summary>
    internal static Dictionary<int, PredictionRecord> Prepare(string outDir, ExistingOutput existing, Settings settings,
        IReadOnlyList<PredictionPaths> files, IReadOnlyList<Sample> samples)
    {
        CheckOutput(outDir, existing);
        var manifestPath = Path.Combine(outDir, ManifestFile);
        var resultsPath = Path.Combine(outDir, PredictionFiles.ResultsFile);
        var kept = new Dictionary<int, PredictionRecord>();
        switch (existing)
        {
            case ExistingOutput.Overwrite:
                foreach (var r in ReadResults(resultsPath))
                    if (r.Files is { } previous) DeleteInside(outDir, previous);
                File.Delete(resultsPath);
                File.Delete(manifestPath);
                break;
            case ExistingOutput.Resume:
                var manifest = ReadManifest(outDir)!;
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
        WriteManifest(outDir, settings, Running, null);
        return kept;
    }

    /// <summary>Checks, before any work, that <paramref name="outDir"/> can take a run: it is created if needed and must be
    /// writable; stray temporary files of a killed run are deleted; a non-empty folder is refused under
    /// <see cref="ExistingOutput.Refuse"/>, and <see cref="ExistingOutput.Resume"/> needs a manifest to resume.</summary>
    public static void CheckOutput(string outDir, ExistingOutput existing)
    {
        CheckWritable(outDir);
        DeleteTemporaryFiles(outDir);
        if (existing == ExistingOutput.Refuse && Directory.EnumerateFileSystemEntries(outDir).Order(StringComparer.Ordinal).FirstOrDefault() is { } example)
            throw new DataException(outDir, $"the output folder is not empty (it holds '{Path.GetFileName(example)}'): give --overwrite to replace " +
                "a previous run, --resume to finish an interrupted one, or another --out");
        if (existing == ExistingOutput.Resume && !File.Exists(Path.Combine(outDir, ManifestFile)))
            throw new DataException(outDir, $"nothing to resume: no {ManifestFile} (not a prediction folder, or its run never started)");
    }

    /// <summary>Marks the run complete with its counts.</summary>
    internal static void Finish(string outDir, Settings settings, int succeeded, int failed) =>
        WriteManifest(outDir, settings, Complete, (succeeded, failed));

    /// <summary>Checks a prediction folder before evaluation: a manifest, when present, must say the run completed.</summary>
    public static void CheckComplete(string predDir)
    {
        if (ReadManifest(predDir) is not { } manifest) return;
        var status = manifest["status"]?.GetValue<string>();
        if (status != Complete)
            throw new DataException(Path.Combine(predDir, ManifestFile),
                $"the prediction run did not finish (status '{status}'): its maps may be a mixture; finish it with agvas predict --resume (same --out), or predict again with --overwrite");
    }

    private static JsonObject? ReadManifest(string outDir)
    {
        var path = Path.Combine(outDir, ManifestFile);
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
                m["fingerprint"]!.GetValue<string>(), m["images"]!.GetValue<int>());
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException)
        {
            throw new DataException(path, "run manifest lacks a field or has one of the wrong type", e);
        }
    }

    private static string Describe(Settings s) =>
        $"{s.Images} image(s) (fingerprint {s.Fingerprint[..12]}), mode {s.Mode}, overlays {(s.Overlays ? "on" : "off")}, context {s.Context}";

    private static void WriteManifest(string outDir, Settings s, string status, (int Succeeded, int Failed)? counts)
    {
        var o = new JsonObject
        {
            ["format"] = Format, ["status"] = status, ["images"] = s.Images,
            ["succeeded"] = counts?.Succeeded, ["failed"] = counts?.Failed,
            ["mode"] = s.Mode, ["overlays"] = s.Overlays, ["context"] = s.Context, ["fingerprint"] = s.Fingerprint,
        };
        AtomicFile.WriteAllText(Path.Combine(outDir, ManifestFile), o.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
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

    /// <summary>Deletes, under <paramref name="outDir"/>, the temporary files <see cref="AtomicFile"/> writes (<c>.name.&lt;32 hex&gt;.tmp</c>).</summary>
    internal static void DeleteTemporaryFiles(string outDir)
    {
        foreach (var file in Directory.EnumerateFiles(outDir, ".*.tmp", new EnumerationOptions
            { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint }))
            if (AtomicFile.IsTemporary(Path.GetFileName(file))) File.Delete(file);
    }
}
