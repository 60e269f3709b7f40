using AgVas.Checkpoints;
using AgVas.Inference;
using AgVas.Modeling;
using AgVas.Tests.Modeling;
using AgVas.Text;
using static TorchSharp.torch;

namespace AgVas.Tests.Inference;

/// <summary>Multi-scale inference of a ResNet-backbone model (<see cref="ResNetEncoderConfig.Scales"/>): the maps are the
/// pixelwise maximum of the single-scale runs, the mask is drawn from the fused map, the text is the run at ImageSize.</summary>
public class MultiScaleInferenceTests
{
    // A tiny ResNet model small enough to run at 64–128 px: layer4's grid at 64 px is 2×2.
    private static AgVasConfig Config(int imageSize, int[]? scales)
    {
        var config = AgVasConfig.Preset("tiny-resnet");
        var resnet = config.Vision.ResNet! with { ImageSize = imageSize, SemanticGrid = 2, Scales = scales };
        var vision = VisionPresets.WithResNet(config.Vision, resnet);
        return config with { Vision = vision with { Agmd = vision.Agmd with { SeedThreshold = 0.5 } } };
    }

    [Fact]
    public void MapsAreTheMaximumOverTheScalesAndTheTextIsTheRunAtTheInputSize()
    {
        var tokenizer = Qwen2Tokenizer.Tiny();
        manual_seed(3);
        using var multi = new AgVasModel(Config(96, [64, 96, 128]));
        LlavaOnevisionCheckpoint.AddAnchors(tokenizer, multi.Config.Llm.VocabSize, "tiny");
        var image = AgVasModelTests.RandomImage(80, 56, 9);
        var options = new PredictorOptions { MaxNewTokens = 6 };
        var fused = new AgVasInferenceModel(multi, tokenizer, options).Predict(image, InstructionType.DirectSegmentation);

        var singles = new Dictionary<int, Prediction>();
        foreach (int size in new[] { 64, 96, 128 })
        {
            var single = new AgVasModel(Config(size, null));
            single.load_state_dict(multi.state_dict());
            singles[size] = new AgVasInferenceModel(single, tokenizer, options).Predict(image, InstructionType.DirectSegmentation);
            single.Dispose();
        }

        Assert.Equal(singles[96].RawText, fused.RawText);
        // The scales disagree (else the test would not tell max from any one of them).
        Assert.True(singles[64].Map.Zip(singles[128].Map, (a, b) => Math.Abs(a - b)).Max() > 1e-3);
        for (int k = 0; k < fused.Map.Length; k++)
        {
            Assert.Equal(singles.Values.Max(p => p.Map[k]), fused.Map[k]);
            Assert.Equal(singles.Values.Max(p => p.PSeg[k]), fused.PSeg[k]);
            Assert.Equal(singles.Values.Max(p => p.PNor[k]), fused.PNor[k]);
            Assert.Equal(singles.Values.Max(p => p.PAno[k]), fused.PAno[k]);
            Assert.Equal(fused.Map[k] > 0.5f, fused.Mask.Data[k]);
        }
    }

    [Theory]
    [InlineData(new[] { 64, 128 }, "must include ResNet.ImageSize")]
    [InlineData(new[] { 96, 100 }, "not a multiple of 32")]
    [InlineData(new[] { 96, 96 }, "repeats a size")]
    [InlineData(new[] { 96, 32 }, "not a multiple of 32 in [64, 2048]")]
    public void BadScalesAreRejectedNamingTheField(int[] scales, string message)
    {
        var e = Assert.Throws<ModelConfigException>(() => Config(96, scales).Validate());
        Assert.Contains("ResNet.Scales", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void ScalesAreAnInferenceSettingAModelDirectoryMaySetAndReadsBack()
    {
        using var dir = new TempDir();
        var tokenizer = Qwen2Tokenizer.Tiny();
        using var model = new AgVasModel(Config(96, null));
        LlavaOnevisionCheckpoint.AddAnchors(tokenizer, model.Config.Llm.VocabSize, "tiny");
        var written = model.Config with { Vision = model.Config.Vision with { ResNet = model.Config.Vision.ResNet! with { Scales = [96, 64] } } };
        AgVasModelDirectory.Save(dir.Path, model, tokenizer, written);
        var read = AgVasModelDirectory.ReadConfig(dir.Path).Vision.ResNet!;
        Assert.Equal([96, 64], read.Scales);
        Assert.Equal([96, 64], read.InferenceSizes);
        Assert.Equal([96], Config(96, null).Vision.ResNet!.InferenceSizes);
    }
}
