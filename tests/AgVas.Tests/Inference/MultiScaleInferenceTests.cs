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

    [Fact]
    public void MirroredInferenceIsSymmetricUnderAMirroredInput()
    {
        // With Mirror, map(image) = (f(image) + flip f(flip image)) / 2, so a mirrored input gives the mirrored maps (to
        // rounding: the two images share a batch); without it the model is not symmetric (zero padding at the bottom
        // right, conv1's asymmetric pads).
        var tokenizer = Qwen2Tokenizer.Tiny();
        manual_seed(5);
        using var plain = new AgVasModel(Config(64, [64, 96]));
        LlavaOnevisionCheckpoint.AddAnchors(tokenizer, plain.Config.Llm.VocabSize, "tiny");
        using var mirroring = new AgVasModel(plain.Config with { Vision = plain.Config.Vision with { ResNet = plain.Config.Vision.ResNet! with { Mirror = true } } });
        mirroring.load_state_dict(plain.state_dict());
        var options = new PredictorOptions { MaxNewTokens = 6 };
        var image = AgVasModelTests.RandomImage(72, 40, 11);
        var flipped = image.FlipHorizontal();
        Prediction[] Run(AgVasModel m) => [.. new AgVasInferenceModel(m, tokenizer, options).Predict([image, flipped], InstructionType.DirectSegmentation)];
        var (p, q) = (Run(plain), Run(mirroring));

        static float At(Prediction r, int x, int y) => r.Map[y * r.Width + x];
        double asymmetry = 0;
        for (int y = 0; y < 40; y++)
            for (int x = 0; x < 72; x++)
            {
                asymmetry = Math.Max(asymmetry, Math.Abs(At(p[0], x, y) - At(p[1], 71 - x, y)));
                Assert.Equal(At(q[0], x, y), At(q[1], 71 - x, y), 1e-5f);   // equal up to a batch position's rounding
                Assert.Equal(q[0].PSeg[y * 72 + x], q[1].PSeg[y * 72 + 71 - x], 1e-5f);
                // the mirrored run's map is the mean of the plain run's maps of the image and of its mirror, flipped back
                Assert.Equal(0.5f * (At(p[0], x, y) + At(p[1], 71 - x, y)), At(q[0], x, y), 1e-5f);
                Assert.Equal(q[0].Map[y * 72 + x] > 0.5f, q[0].Mask.Data[y * 72 + x]);
            }
        Assert.True(asymmetry > 1e-3, $"the plain model is symmetric to {asymmetry}: the test would not tell mirroring from none");
        Assert.Equal(p[0].RawText, q[0].RawText);
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
