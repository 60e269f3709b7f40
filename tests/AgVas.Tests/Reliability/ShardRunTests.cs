using System.Diagnostics;
using AgVas.Cli.Commands;
using AgVas.Data;
using AgVas.Inference;
using AgVas.Tests.Training;
using AgVas.Training;

namespace AgVas.Tests.Reliability;

/// <summary>
/// Scale-out (#20), the Indexed Job's contract run locally: N real <c>agvas predict --shard /N</c> processes, each with its
/// own <c>JOB_COMPLETION_INDEX</c>, writing into one shared folder, give exactly the unsharded run (byte-identical maps
/// and masks, identical eval output); a shard killed half-way and resumed does too; eval refuses an incomplete,
/// overlapping, foreign or mixed set of shards, naming it. On the tiny random model and generated blob images (fast).
/// </summary>
[Collection(SerialTrainingCollection.Name)]
public sealed class ShardRunTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("agvas-shards-").FullName;
    private readonly string model;
    private readonly string data;

    public ShardRunTests()
    {
        model = Path.Combine(dir, "model");
        using (var m = AgVasTrainingModel.Create("tiny", 0)) m.Save(model);
        data = Path.Combine(dir, "data");
        new BlobSource(24, 40, 5).WriteMvtec(data);
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string[] Predict(string outDir, params string[] extra) =>
        ["predict", "--model", model, "--data", data, "--out", outDir, "--mode", "DirectSegmentation", .. extra];

    [Fact]
    public void ThreeShardProcessesGiveTheUnshardedRunByteForByte()
    {
        var single = Path.Combine(dir, "single");
        var (code, _, err) = CorpusCliTests.Run(Predict(single));
        Assert.True(code == 0, err);

        var sharded = Path.Combine(dir, "sharded");
        var processes = Enumerable.Range(0, 3).Select(k => Start(Predict(sharded, "--shard", "/3"), k)).ToList();  // concurrently, as pods
        foreach (var p in processes)
        {
            Assert.True(p.WaitForExit(TimeSpan.FromMinutes(5)), "a shard process hung");
            Assert.True(p.ExitCode == 0, $"a shard process exited with {p.ExitCode}: {p.StandardError.ReadToEnd()}");
            p.Dispose();
        }

        for (int k = 0; k < 3; k++)
            Assert.True(File.Exists(Path.Combine(sharded, $"agvas-run.shard-{k}-of-3.json")), $"shard {k} wrote no manifest");
        var shardImages = Enumerable.Range(0, 3).Select(k => PredictionRun.ResultFiles(sharded).Where(f => f.Contains($"shard-{k}-of-3"))
            .SelectMany(File.ReadLines).Count()).ToList();
        Assert.Equal(Datasets.Load(data).Count, shardImages.Sum());
        Assert.All(shardImages, n => Assert.True(n > 0, "a shard got no image"));
        AssertSameOutputs(single, sharded);
        Assert.Equal(Eval(single), Eval(sharded));
    }

    [Fact]
    public void AKilledShardResumedCompletesTheSetWithNoLeftovers()
    {
        var single = Path.Combine(dir, "single");
        Assert.Equal(0, CorpusCliTests.Run(Predict(single)).Code);
        var sharded = Path.Combine(dir, "sharded");
        // As the Job's pods run it: --resume starts a shard that never ran.
        foreach (var k in new[] { 0, 2 }) Assert.Equal(0, CorpusCliTests.Run(Predict(sharded, "--shard", $"{k}/3", "--resume")).Code);

        // Shard 1 is killed (SIGKILL) after its first image.
        var results = Path.Combine(sharded, "results.shard-1-of-3.jsonl");
        CliProcess.KillWhen([.. Predict(sharded, "--shard", "1/3")], () => PredictKillResumeTests.LineCount(results) >= 1);
        var (code, _, err) = CorpusCliTests.Run("eval", "--data", data, "--pred", sharded);
        Assert.Equal(1, code);
        Assert.Contains("agvas-run.shard-1-of-3.json", err);
        Assert.Contains("did not finish", err);
        (code, _, err) = CorpusCliTests.Run(Predict(sharded, "--shard", "1/3"));
        Assert.Equal(1, code);
        Assert.Contains("shard 1/3 already ran here", err);

        (code, _, err) = CorpusCliTests.Run(Predict(sharded, "--shard", "1/3", "--resume"));
        Assert.True(code == 0, err);
        Assert.Empty(Directory.EnumerateFiles(sharded, "*.tmp", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }));
        AssertSameOutputs(single, sharded);
        Assert.Equal(Eval(single), Eval(sharded));
    }

    [Fact]
    public void EvalRefusesIncompleteOverlappingForeignAndMixedShards()
    {
        var sharded = Path.Combine(dir, "sharded");
        for (int k = 0; k < 3; k++) Assert.Equal(0, CorpusCliTests.Run(Predict(sharded, "--shard", $"{k}/3")).Code);
        string Manifest(int k, int n = 3) => Path.Combine(sharded, $"agvas-run.shard-{k}-of-{n}.json");

        // Incomplete: shard 2 missing.
        File.Move(Manifest(2), Manifest(2) + ".away");
        AssertEvalRefuses(sharded, "incomplete set of shards: 2/3 missing");
        File.Move(Manifest(2) + ".away", Manifest(2));

        // Overlapping: an image of shard 0 also in shard 1's results.
        var shard1 = Path.Combine(sharded, "results.shard-1-of-3.jsonl");
        var original = File.ReadAllText(shard1);
        File.AppendAllText(shard1, File.ReadLines(Path.Combine(sharded, "results.shard-0-of-3.jsonl")).First() + "\n");
        AssertEvalRefuses(sharded, "overlapping shards");
        File.WriteAllText(shard1, original);

        // Foreign: a shard of another N; and predict refuses to start one there.
        var (code, _, err) = CorpusCliTests.Run(Predict(sharded, "--shard", "0/2"));
        Assert.Equal(1, code);
        Assert.Contains("3-way run", err);
        File.Copy(Manifest(0), Manifest(0, 2));
        AssertEvalRefuses(sharded, "foreign shard");
        File.Delete(Manifest(0, 2));

        // Renamed (a duplicate of another shard under a free name is caught by its content).
        File.Move(Manifest(2), Manifest(2) + ".away");
        File.Copy(Manifest(1), Manifest(2));
        AssertEvalRefuses(sharded, "duplicated or renamed shard");
        File.Delete(Manifest(2));
        File.Move(Manifest(2) + ".away", Manifest(2));

        // A dataset the shards were not cut from.
        var other = Path.Combine(dir, "other");
        new BlobSource(25, 40, 5).WriteMvtec(other);
        (code, _, err) = CorpusCliTests.Run("eval", "--data", other, "--pred", sharded);
        Assert.Equal(1, code);
        Assert.Contains("do not cover the dataset", err);

        // Mixed with an unsharded run.
        File.WriteAllText(Path.Combine(sharded, PredictionRun.ManifestFile), File.ReadAllText(Manifest(0)));
        AssertEvalRefuses(sharded, "mixes an unsharded run");
        (code, _, err) = CorpusCliTests.Run(Predict(sharded, "--shard", "1/3", "--overwrite"));
        Assert.Equal(1, code);
        Assert.Contains("holds an unsharded run", err);

    }

    [Fact]
    public void BatchContextShardsByCategorySoShardedAndUnshardedRunsAgree()
    {
        var manifest = Repository.Path("samples/manifest.csv");                                        // cookie and hazelnut
        string[] Run(string outDir, params string[] extra) =>
            ["predict", "--model", model, "--data", manifest, "--out", outDir, "--mode", "DirectSegmentation", "--context", "batch", .. extra];
        var single = Path.Combine(dir, "batch-single");
        Assert.Equal(0, CorpusCliTests.Run(Run(single)).Code);
        var sharded = Path.Combine(dir, "batch-sharded");
        for (int k = 0; k < 4; k++) Assert.Equal(0, CorpusCliTests.Run(Run(sharded, "--shard", $"{k}/4")).Code);

        var byShard = Enumerable.Range(0, 4).Select(k => File.ReadLines(Path.Combine(sharded, $"results.shard-{k}-of-4.jsonl"))
            .Select(l => PredictionRecord.TryParse(l)!.Image.Split('/')[1]).Distinct().ToList()).ToList();
        Assert.All(byShard, categories => Assert.True(categories.Count <= 1, "a shard holds images of two categories"));
        Assert.Equal(["cookie", "hazelnut"], byShard.SelectMany(c => c).Order());                   // each category whole, once
        AssertSameOutputs(single, sharded);
    }

    private void AssertEvalRefuses(string pred, string message)
    {
        var (code, _, err) = CorpusCliTests.Run("eval", "--data", data, "--pred", pred);
        Assert.Equal(1, code);
        Assert.Contains(message, err);
    }

    private string Eval(string pred)
    {
        var (code, stdout, err) = CorpusCliTests.Run("eval", "--data", data, "--pred", pred);
        Assert.True(code == 0, err);
        return stdout;
    }

    /// <summary>The maps and masks of both folders: the same files, byte for byte (results and manifests differ by design).</summary>
    private static void AssertSameOutputs(string expectedRoot, string actualRoot)
    {
        var expected = Outputs(expectedRoot);
        var actual = Outputs(actualRoot);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (relative, bytes) in actual)
            Assert.True(bytes.AsSpan().SequenceEqual(expected[relative]), $"{relative} differs from the unsharded run's");
    }

    private static Dictionary<string, byte[]> Outputs(string root) =>
        Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Where(f => f.EndsWith(".npy", StringComparison.Ordinal) || f.EndsWith("_mask.png", StringComparison.Ordinal))
            .ToDictionary(f => Path.GetRelativePath(root, f), File.ReadAllBytes);

    /// <summary>A real CLI process with <c>JOB_COMPLETION_INDEX</c> = <paramref name="index"/>, as in a pod of an Indexed Job.</summary>
    private static Process Start(string[] args, int index) =>
        CliProcess.Start(args, new Dictionary<string, string> { [ShardSpec.IndexVariable] = index.ToString(System.Globalization.CultureInfo.InvariantCulture) });
}
