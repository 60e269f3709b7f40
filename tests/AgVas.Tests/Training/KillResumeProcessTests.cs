using System.Diagnostics;
using AgVas.Checkpoints;
using AgVas.Cli.Commands;
using AgVas.Training;
using static TorchSharp.torch;

namespace AgVas.Tests.Training;

/// <summary>A real `agvas train` process killed with SIGKILL after a checkpoint, then resumed, ends with the weights of an
/// uninterrupted run, bit for bit (tiny preset, tiny synthesized data).</summary>
[Collection(SerialTrainingCollection.Name)]
public sealed class KillResumeProcessTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("agvas-kill-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private const string Config = """
        model: { preset: tiny }
        data:
          sources:
            - synth: { count: 6, size: 64, normal_ratio: 0.3 }
        optim: { lr: 1.0e-3, warmup_steps: 1, batch_size: 1, grad_accum: 2 }
        steps: 6
        seed: 3
        output: { checkpoint_every: 2, keep_checkpoints: 5 }
        """;

    [Fact]
    public void KilledRunResumesToTheUninterruptedWeights()
    {
        var config = Path.Combine(dir, "kill.yaml");
        File.WriteAllText(config, Config);
        var straight = Path.Combine(dir, "straight");
        var (code, _, err) = CliErrorTests.Run("train", "--config", config, "--out", straight);
        Assert.True(code == 0, err);

        var killed = Path.Combine(dir, "killed");
        var latest = Path.Combine(TrainingCheckpoint.Directory(killed), TrainingCheckpoint.LatestFile);
        Reliability.CliProcess.KillWhen(["train", "--config", config, "--out", killed],
            () => File.Exists(latest) && File.ReadAllText(latest).Trim() is "step-000002" or "step-000004");
        int checkpointStep = TrainingCheckpoint.ReadState(TrainingCheckpoint.Latest(killed)!).Step;
        Assert.InRange(checkpointStep, 2, 4);
        Assert.False(Directory.Exists(Trainer.FinalDirectory(killed)));

        (code, var output, err) = CliErrorTests.Run("train", "--config", config, "--out", killed, "--resume");
        Assert.True(code == 0, err);
        Assert.Contains($"resumed from step {checkpointStep}", output);
        AssertSameTensors(Trainer.FinalDirectory(straight), Trainer.FinalDirectory(killed));
    }

    internal static void AssertSameTensors(string expectedDir, string actualDir)
    {
        var files = Directory.GetFiles(expectedDir, "*.safetensors").Select(Path.GetFileName).ToList();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            using var a = TensorSource.Open(Path.Combine(expectedDir, file!));
            using var b = TensorSource.Open(Path.Combine(actualDir, file!));
            Assert.Equal(a.Names.Order(), b.Names.Order());
            foreach (var name in a.Names)
            {
                // Bit-exact: a resumed run replays the uninterrupted one (same data, random state and optimiser state).
                using var x = a.Load(name);
                using var y = b.Load(name);
                if (x.bytes.SequenceEqual(y.bytes)) continue;
                using var dx = x.to(ScalarType.Float64);
                using var dy = y.to(ScalarType.Float64);
                Assert.Fail($"{file}:{name}: not bit-identical, max diff {(dx - dy).abs().max().item<double>()}");
            }
        }
    }
}
