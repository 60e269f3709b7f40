using System.Text.Json;
using AgVas.Checkpoints;
using AgVas.Cli.Commands;
using AgVas.Modeling;

namespace AgVas.Tests.Modeling;

/// <summary>Each supported real-layout config.json is read and the fields that matter are asserted.</summary>
public sealed class HuggingFaceConfigTests
{
    private static string Hf(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "Modeling", "hf", name);

    [Fact]
    public void SamVitBaseConfigGivesTheViTBEncoderAndSamDecoder()
    {
        var parts = HuggingFaceVisionConfigs.Read(Hf("sam-vit-base"));
        var p = parts.PixelEncoder!;
        Assert.Equal((768, 12, 12, 3072, 1024, 16, 256, 14), (p.HiddenSize, p.NumHiddenLayers, p.NumAttentionHeads, p.MlpDim, p.ImageSize, p.PatchSize, p.OutputChannels, p.WindowSize));
        Assert.Equal([2, 5, 8, 11], p.GlobalAttnIndexes);
        Assert.True(p.QkvBias && p.UseAbsPos && p.UseRelPos);
        Assert.Equal(1e-6, p.LayerNormEps);
        Assert.Equal(Activation.Gelu, p.HiddenAct);
        Assert.Equal(89_670_912L, PixelEncoder.ParameterCount(p));
        var a = parts.Agmd!;
        Assert.Equal((256, 2, 8, 2048, 2), (a.HiddenSize, a.NumHiddenLayers, a.NumAttentionHeads, a.MlpDim, a.AttentionDownsampleRate));
        Assert.Null(parts.SemanticEncoder);
    }

    [Fact]
    public void SamVitHugeConfigGivesTheViTHEncoder()
    {
        var p = HuggingFaceVisionConfigs.Read(Hf("sam-vit-huge")).PixelEncoder!;
        Assert.Equal((1280, 32, 16, 5120), (p.HiddenSize, p.NumHiddenLayers, p.NumAttentionHeads, p.MlpDim));
        Assert.Equal([7, 15, 23, 31], p.GlobalAttnIndexes);
        Assert.Equal(637_026_048L, PixelEncoder.ParameterCount(p));
    }

    [Theory]
    [InlineData("llava-onevision-qwen2-0.5b-ov-hf", 896, 14)]
    [InlineData("llava-onevision-qwen2-7b-ov-hf", 3584, 28)]
    public void LlavaOnevisionConfigGivesTheTruncatedSiglipTowerAndProjector(string name, int llmHidden, int llmHeads)
    {
        var parts = HuggingFaceVisionConfigs.Read(Hf(name));
        var s = parts.SemanticEncoder!;
        Assert.Equal((1152, 4304, 26, 16, 384, 14), (s.HiddenSize, s.IntermediateSize, s.NumHiddenLayers, s.NumAttentionHeads, s.ImageSize, s.PatchSize));
        Assert.Equal(Activation.GeluTanh, s.HiddenAct);          // SiglipVisionConfig's default hidden_act
        Assert.Equal(-1, s.FeatureLayer);
        Assert.Equal(26, s.LayersUsed);
        Assert.Equal(729, s.NumPatches);
        Assert.Equal(new ProjectorConfig(1152, llmHidden, Activation.Gelu), parts.Projector);
        Assert.Equal((llmHidden, llmHeads), (parts.LlmHiddenSize, parts.LlmNumHeads));
    }

    [Fact]
    public void SummaryFromTheOv05bCheckpointsEqualsThePreset()
    {
        var fromDirs = ModelCommand.Summarise("tiny", [Hf("llava-onevision-qwen2-0.5b-ov-hf"), Hf("sam-vit-base")]);
        var fromPreset = ModelCommand.Summarise("ov-0.5b", []);
        Assert.Equal(fromPreset, fromDirs);
        using var json = JsonDocument.Parse(ModelCommand.ToJson(fromPreset));
        var components = json.RootElement.GetProperty("components");
        Assert.Equal(89_670_912L, components.GetProperty("pixel_encoder").GetProperty("total").GetInt64());
        Assert.Equal(0L, components.GetProperty("pixel_encoder").GetProperty("trainable").GetInt64());
        Assert.Equal(["semantic_encoder", "projector", "pixel_encoder", "spam", "token_refiner", "agmd", "llm", "lora"], components.EnumerateObject().Select(p => p.Name));
        long trainable = components.EnumerateObject().Sum(p => p.Value.GetProperty("trainable").GetInt64());
        Assert.Equal(trainable, json.RootElement.GetProperty("trainable").GetInt64());
    }

    [Theory]
    [InlineData("""{"model_type": "llava_onevision", "text_config": {"num_attention_heads": 14}}""", "text_config.hidden_size")]
    [InlineData("""{"model_type": "llava_onevision", "vision_feature_select_strategy": "default", "text_config": {"hidden_size": 8, "num_attention_heads": 2}}""", "vision_feature_select_strategy")]
    [InlineData("""{"model_type": "llava_onevision", "vision_feature_layer": [-2, -1], "text_config": {"hidden_size": 8, "num_attention_heads": 2}}""", "vision_feature_layer")]
    [InlineData("""{"model_type": "sam", "vision_config": {"hidden_act": "swish"}}""", "vision_config.hidden_act")]
    [InlineData("""{"model_type": "bert"}""", "model_type")]
    [InlineData("""{"model_type": "sam", "vision_config": {"hidden_size": "big"}}""", "invalid config JSON")]
    public void BadConfigsNameTheFileAndTheField(string json, string field)
    {
        var dir = Directory.CreateTempSubdirectory("agvas-config-");
        try
        {
            var path = Path.Combine(dir.FullName, "config.json");
            File.WriteAllText(path, json);
            var e = Assert.Throws<CheckpointException>(() => HuggingFaceVisionConfigs.Read(dir.FullName));
            Assert.Contains(path, e.Message);
            Assert.Contains(field, e.Message);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
