using System.CommandLine;
using System.Runtime.CompilerServices;
using AgVas.Checkpoints;
using AgVas.Cli.Commands;

namespace AgVas.Tests.Training;

/// <summary>The error contract of train / predict / segment / test, invoked in-process: one line on stderr naming the
/// file and the problem, exit code 1 for a fatal error.</summary>
public sealed class CliErrorTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("agvas-cli-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    internal static (int Code, string Out, string Err) Run(params string[] args)
    {
        var root = new RootCommand();
        foreach (var c in new[] { TrainCommand.Create(), PredictCommand.Create(), SegmentCommand.Create(), TestCommand.Create() }) root.Subcommands.Add(c);
        var output = new StringWriter();
        var error = new StringWriter();
        int code = root.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void TrainWithAnUnknownKeyFailsOnOneLine()
    {
        var config = Path.Combine(dir, "bad.yaml");
        File.WriteAllText(config, "steps: 3\noptim:\n  learning_rate: 1\n");
        var (code, _, err) = Run("train", "--config", config);
        Assert.Equal(1, code);
        Assert.Equal($"error: {config}: line 3: unknown key 'optim.learning_rate'", err[..err.IndexOf(" (known", StringComparison.Ordinal)]);
        Assert.Single(err.TrimEnd().Split('\n'));
    }

    [Fact]
    public void TrainWithAMissingOrEmptyDatasetFails()
    {
        var config = Path.Combine(dir, "c.yaml");
        Directory.CreateDirectory(Path.Combine(dir, "empty"));
        File.WriteAllText(config, "data: { sources: [ { path: empty } ] }\n");
        var (code, _, err) = Run("train", "--config", config, "--out", Path.Combine(dir, "run"));
        Assert.Equal(1, code);
        Assert.Contains("empty dataset", err);
        File.WriteAllText(config, "data: { sources: [ { path: nowhere } ] }\n");
        (code, _, err) = Run("train", "--config", config, "--out", Path.Combine(dir, "run"));
        Assert.Equal(1, code);
        Assert.Contains("nowhere: no such file or folder", err);
        (code, _, err) = Run("train", "--config", Path.Combine(dir, "missing.yaml"));
        Assert.Equal(1, code);
        Assert.Contains("config file not found", err);
    }

    [Fact]
    public void SegmentWithNothingToReadFailsClearly()
    {
        var (code, _, err) = Run("segment", Path.Combine(dir, "nope.png"));
        Assert.Equal(1, code);
        Assert.Contains("nope.png: no such file or folder", err);
        Assert.Contains("no images found", err);
    }

    [Fact]
    public void PredictWithAMissingModelFailsClearly()
    {
        var data = Path.Combine(dir, "data");
        new BlobSource(2, 16, 1).WriteMvtec(data);
        var (code, _, err) = Run("predict", "--model", Path.Combine(dir, "no-model"), "--data", data, "--out", Path.Combine(dir, "pred"));
        Assert.Equal(1, code);
        Assert.Contains("no-model", err);
    }

    [Fact]
    public void EveryAgVasExceptionIsAUserError()
    {
        // CheckpointMismatchException (a SAM or LLaVA checkpoint whose tensors are not the model's) was missing from the
        // list of types the commands report on one line; the base type now covers it and any type added later.
        var types = typeof(AgVasException).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(AgVasException)) && !t.IsAbstract).ToList();
        Assert.Contains(typeof(CheckpointMismatchException), types);
        foreach (var t in types) Assert.True(PredictCommand.IsUserError((Exception)RuntimeHelpers.GetUninitializedObject(t)), t.Name);
        Assert.True(PredictCommand.IsUserError(new CheckpointMismatchException("sam/model.safetensors", ["a"], [], [])));
        Assert.False(PredictCommand.IsUserError(new InvalidOperationException("a bug")));
    }
}
