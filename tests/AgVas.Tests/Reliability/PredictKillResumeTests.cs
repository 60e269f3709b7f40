using System.Diagnostics;
using AgVas.Cli.Commands;
using AgVas.Data;
using AgVas.Inference;
using AgVas.Tests.Training;
using AgVas.Training;

namespace AgVas.Tests.Reliability;

/// <summary>Must reach: a real <c>agvas predict</c> process killed with SIGKILL mid-run leaves a folder that eval refuses
/// and a plain re-run refuses; <c>--resume</c> then completes it with no temporary file left, byte-identical to an
/// uninterrupted run (maps, masks and results.jsonl).</summary>
[Collection(SerialTrainingCollection.Name)]
public sealed class PredictKillResumeTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("agvas-predict-kill-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void KilledPredictResumesToTheUninterruptedOutputsWithNoLeftovers()
    {
        var model = Path.Combine(dir, "model");
        using (var m = AgVasTrainingModel.Create("tiny", 0)) m.Save(model);
        var data = Path.Combine(dir, "data");
        new BlobSource(10, 40, 9).WriteMvtec(data);
        int images = Datasets.Load(data).Count;

        var straight = Path.Combine(dir, "straight");
        var (code, _, err) = CorpusCliTests.Run("predict", "--model", model, "--data", data, "--out", straight, "--mode", "DirectSegmentation");
        Assert.True(code == 0, err);

        var killed = Path.Combine(dir, "killed");
        var results = Path.Combine(killed, PredictionFiles.ResultsFile);
        CliProcess.KillWhen(["predict", "--model", model, "--data", data, "--out", killed, "--mode", "DirectSegmentation"],
            () => LineCount(results) >= 3);
        Assert.InRange(LineCount(results), 3, images - 1);
        // What a kill during a write leaves (AtomicFile's temporary sibling), in case this kill did not leave one itself.
        var category = Directory.GetDirectories(killed)[0];
        File.WriteAllBytes(Path.Combine(category, $".000_mask.png.{Guid.NewGuid():N}.tmp"), [1, 2, 3]);

        (code, _, err) = CorpusCliTests.Run("eval", "--data", data, "--pred", killed);
        Assert.Equal(1, code);
        Assert.Contains("did not finish", err);
        (code, _, err) = CorpusCliTests.Run("predict", "--model", model, "--data", data, "--out", killed, "--mode", "DirectSegmentation");
        Assert.Equal(1, code);
        Assert.Contains("--resume", err);

        (code, _, err) = CorpusCliTests.Run("predict", "--model", model, "--data", data, "--out", killed, "--mode", "DirectSegmentation", "--resume");
        Assert.True(code == 0, err);
        Assert.Empty(Directory.EnumerateFiles(killed, "*.tmp", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }));
        var expected = Files(straight);
        Assert.Equal(expected.Keys, Files(killed).Keys);
        foreach (var (relative, bytes) in Files(killed))
            Assert.True(bytes.AsSpan().SequenceEqual(expected[relative]), $"{relative} differs from the uninterrupted run's");
        (code, _, err) = CorpusCliTests.Run("eval", "--data", data, "--pred", killed);
        Assert.True(code == 0, err);
    }

    /// <summary>Lines in a file another process is appending to.</summary>
    internal static int LineCount(string path)
    {
        if (!File.Exists(path)) return 0;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return new StreamReader(stream).ReadToEnd().Count(c => c == '\n');
    }

    private static Dictionary<string, byte[]> Files(string root) =>
        Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .ToDictionary(f => Path.GetRelativePath(root, f), File.ReadAllBytes);
}
