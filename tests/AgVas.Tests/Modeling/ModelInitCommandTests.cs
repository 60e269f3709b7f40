using AgVas.Checkpoints;
using AgVas.Cli.Commands;

namespace AgVas.Tests.Modeling;

/// <summary>Runs alone: seeding is only reproducible while no other test draws from TorchSharp's global generator.</summary>
[CollectionDefinition("TorchRng", DisableParallelization = true)]
public sealed class TorchRngCollection;

[Collection("TorchRng")]
public sealed class ModelInitCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => ConsoleCapture.Invoke(ModelCommand.Create(), args);

    [Fact]
    public void InitWritesALoadableModelDeterminedByTheSeed()
    {
        var a = Directory.CreateTempSubdirectory("agvas-init-");
        var b = Directory.CreateTempSubdirectory("agvas-init-");
        try
        {
            Assert.Equal(0, Run("init", "--preset", "tiny", "--out", a.FullName, "--seed", "3").Code);
            Assert.Equal(0, Run("init", "--preset", "tiny", "--out", b.FullName, "--seed", "3").Code);
            Assert.Equal(File.ReadAllBytes(Path.Combine(a.FullName, AgVasModelDirectory.WeightsFileName)),
                File.ReadAllBytes(Path.Combine(b.FullName, AgVasModelDirectory.WeightsFileName)));
            var (model, tokenizer) = AgVasModelDirectory.Load(a.FullName);
            using var _ = model;
            Assert.Equal(model.Config.Llm.VocabSize + 2, tokenizer.TokenToId(AgVas.Modeling.Anchors.Seg));
            var (code, _, stderr) = Run("init", "--preset", "tiny", "--out", a.FullName, "--tokenizer", Path.Combine(a.FullName, "missing.json"));
            Assert.Equal(1, code);
            Assert.Contains("missing.json", stderr);
        }
        finally
        {
            a.Delete(recursive: true);
            b.Delete(recursive: true);
        }
    }

}
