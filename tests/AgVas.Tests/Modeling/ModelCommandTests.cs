using System.Text.Json;
using AgVas.Checkpoints;
using AgVas.Cli.Commands;
using AgVas.Modeling;
using TorchSharp;

namespace AgVas.Tests.Modeling;

[Collection("Console")]
public sealed class ModelCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => ConsoleCapture.Invoke(ModelCommand.Create(), args);

    [Fact]
    public void SummaryJsonForTheTinyPresetMatchesTheBuiltModel()
    {
        var (code, stdout, _) = Run("summary", "--preset", "tiny", "--json");
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(stdout);
        using var model = new AgVasModel(AgVasConfig.Preset("tiny"));
        long total = model.parameters().Sum(p => p.numel());
        long trainable = model.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
        Assert.Equal(total, json.RootElement.GetProperty("total").GetInt64());
        Assert.Equal(trainable, json.RootElement.GetProperty("trainable").GetInt64());
        Assert.Equal(model.Llm.LanguageModel.AdapterParameters().Sum(p => p.numel()),
            json.RootElement.GetProperty("components").GetProperty("lora").GetProperty("trainable").GetInt64());
        Assert.Equal(model.Llm.parameters().Sum(p => p.numel()) - model.Llm.LanguageModel.AdapterParameters().Sum(p => p.numel()),
            json.RootElement.GetProperty("components").GetProperty("llm").GetProperty("total").GetInt64());
    }

    [Fact]
    public void UnknownPresetIsAOneLineError()
    {
        var (code, _, stderr) = Run("summary", "--preset", "gigantic");
        Assert.Equal(1, code);                                  // every command: 1 = error
        Assert.Contains("unknown preset 'gigantic'", stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public void MakeTinyHfWritesALoadableShardedSamCheckpoint()
    {
        var dir = Directory.CreateTempSubdirectory("agvas-cli-");
        try
        {
            var (code, _, _) = Run("make-tiny-hf", "--layout", "sam", "--out", dir.FullName, "--max-shard-bytes", "50000");
            Assert.Equal(0, code);
            Assert.True(File.Exists(Path.Combine(dir.FullName, TensorSource.IndexFileName)));
            var (sumCode, stdout, _) = Run("summary", "--preset", "tiny", "--model", dir.FullName, "--json");
            Assert.Equal(0, sumCode);
            using var json = JsonDocument.Parse(stdout);
            var config = HuggingFaceVisionConfigs.Compose(VisionPresets.Tiny, [HuggingFaceVisionConfigs.Read(dir.FullName)]);
            Assert.Equal(PixelEncoder.ParameterCount(config.PixelEncoder),
                json.RootElement.GetProperty("components").GetProperty("pixel_encoder").GetProperty("total").GetInt64());
            using var side = VisionBuilder.Build(config);
            HuggingFaceVisionLoader.LoadSam(dir.FullName, side);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
