using AgVas.Checkpoints;
using AgVas.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Tests.Modeling;

public sealed class VisionConfigTests
{
    [Fact]
    public void SamVitBImageEncoderHasThePublicParameterCount() =>
        Assert.Equal(89_670_912L, PixelEncoder.ParameterCount(VisionPresets.SamVitB));

    [Fact]
    public void SamVitHImageEncoderParameterCount() =>
        // sam-vit-huge has 641,090,608 parameters in all; minus the prompt encoder (6,220) and SAM's mask decoder
        // (4,058,340) leaves the image encoder's 637,026,048.
        Assert.Equal(637_026_048L, PixelEncoder.ParameterCount(VisionPresets.SamVitH));

    [Fact]
    public void CountsWithoutAllocationEqualTheBuiltTinyModel()
    {
        var config = VisionPresets.Tiny;
        var computed = VisionParameterCounts.Compute(config).ToDictionary(kv => kv.Key, kv => kv.Value);
        using var side = VisionBuilder.Build(config);
        foreach (var (name, module) in side.Components)
        {
            long total = module.parameters().Sum(p => p.numel());
            long trainable = module.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
            Assert.Equal(new ParameterCount(total, trainable), computed[name]);
        }
        Assert.Equal(0, computed[VisionParameterCounts.PixelEncoder].Trainable);
        Assert.Equal(0, computed[VisionParameterCounts.SemanticEncoder].Trainable);
        Assert.Equal(0, computed[VisionParameterCounts.Projector].Trainable);
    }

    [Theory]
    [InlineData(false, SpamPositionalEncoding.Learned)]
    [InlineData(true, SpamPositionalEncoding.None)]
    public void CountsFollowTheOptions(bool sharedRefiner, SpamPositionalEncoding pe)
    {
        var t = VisionPresets.Tiny;
        var config = t with { TokenRefiner = t.TokenRefiner with { Shared = sharedRefiner }, Spam = t.Spam with { PositionalEncoding = pe } };
        using var side = VisionBuilder.Build(config);
        var computed = VisionParameterCounts.Compute(config).ToDictionary(kv => kv.Key, kv => kv.Value.Total);
        Assert.Equal(computed[VisionParameterCounts.Spam], side.Spam.parameters().Sum(p => p.numel()));
        Assert.Equal(computed[VisionParameterCounts.TokenRefiner], side.TokenRefiner.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void PresetsValidateAndComposeWithTheLlmWidth()
    {
        foreach (var name in VisionPresets.Names) VisionBuilder.Validate(VisionPresets.Get(name));
        var paper = VisionPresets.Paper;
        Assert.Equal(3584, paper.Projector.OutputSize);
        Assert.Equal(3584, paper.Spam.Dim);
        Assert.Equal(28, paper.Spam.NumHeads);
        Assert.Equal(1280, paper.PixelEncoder.HiddenSize);
        Assert.Equal([7, 15, 23, 31], paper.PixelEncoder.GlobalAttnIndexes);
        Assert.Equal(729, paper.SemanticEncoder.NumPatches);
        var ov = VisionPresets.Ov05b;
        Assert.Equal(896, ov.Projector.OutputSize);
        Assert.Equal(768, ov.PixelEncoder.HiddenSize);
        var retargeted = VisionPresets.Tiny.WithLlm(512, 8);
        VisionBuilder.Validate(retargeted);
        Assert.Equal(512, retargeted.TokenRefiner.InputDim);
        Assert.Equal(8, retargeted.Spam.NumHeads);
    }

    [Fact]
    public void ValidationNamesTheBadField()
    {
        var t = VisionPresets.Tiny;
        var e = Assert.Throws<ModelConfigException>(() => VisionBuilder.Validate(t with { PixelEncoder = t.PixelEncoder with { NumAttentionHeads = 3 } }));
        Assert.Equal("PixelEncoder.HiddenSize", e.Field);
        Assert.Contains("PixelEncoder.NumAttentionHeads", e.Message);
        e = Assert.Throws<ModelConfigException>(() => VisionBuilder.Validate(t with { Agmd = t.Agmd with { Alpha = 1.5 } }));
        Assert.Equal("Agmd.Alpha", e.Field);
        e = Assert.Throws<ModelConfigException>(() => VisionBuilder.Validate(t with { Agmd = t.Agmd with { SeedThreshold = 0.4 } }));
        Assert.Equal("Agmd.SeedThreshold", e.Field);
        e = Assert.Throws<ModelConfigException>(() => VisionBuilder.Validate(t with { Agmd = t.Agmd with { SeedThreshold = 1.0 } }));
        Assert.Equal("Agmd.SeedThreshold", e.Field);
        e = Assert.Throws<ModelConfigException>(() => VisionBuilder.Validate(t with { Projector = t.Projector with { OutputSize = 100 } }));
        Assert.Equal("Spam.SemanticDim", e.Field);
        e = Assert.Throws<ModelConfigException>(() => VisionBuilder.Validate(t with { PixelEncoder = t.PixelEncoder with { GlobalAttnIndexes = [9] } }));
        Assert.Equal("PixelEncoder.GlobalAttnIndexes", e.Field);
        e = Assert.Throws<ModelConfigException>(() => VisionPresets.Get("huge"));
        Assert.Equal("preset", e.Field);
    }

    [Fact]
    public void TinyVisionSideRunsEndToEndWithTheDocumentedShapes()
    {
        manual_seed(1);
        using var side = VisionBuilder.Build(VisionPresets.Tiny);
        side.eval();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var image = rand(1, 3, 120, 200) * 255;                                            // original image, 0–255
        var fs = side.Projector.forward(side.SemanticEncoder.forward(SamImageTransform.SiglipPreProcess(image, 224)));
        Assert.Equal(new long[] { 1, 196, 256 }, fs.shape);
        var fp = side.PixelEncoder.forward(SamImageTransform.PreProcess(image, 256));
        Assert.Equal(new long[] { 1, 64, 16, 16 }, fp.shape);
        var aligned = side.Spam.forward(fs, fp);
        Assert.Equal(new long[] { 1, 196, 256 }, aligned.shape);
        var anchors = side.TokenRefiner.forward(randn(1, 3, 256));
        Assert.Equal(new long[] { 1, 3, 64 }, anchors.shape);
        using var output = side.Agmd.forward(fp, anchors);
        Assert.Equal(new long[] { 1, 3, 64, 64 }, output.Logits.shape);
        var full = SamImageTransform.PostProcess(output.Logits, 256, 120, 200);
        Assert.Equal(new long[] { 1, 3, 120, 200 }, full.shape);
        using var sum = output.PNor + output.PAno;
        Assert.True(sum.allclose(ones_like(sum), 1e-5, 1e-5));
    }

    [Fact]
    public void LossIsSmallForAPerfectPredictionAndGradientsReachAgmd()
    {
        var loss = new SegmentationLoss(new SegmentationLossConfig());
        using var scope = NewDisposeScope();
        var mask = zeros(2, 8, 8);
        mask[0, 2..5, 2..6] = ones(3, 4);
        var sign = mask * 2 - 1;                                                   // +1 inside, −1 outside
        var logits = stack([-sign * 20, sign * 20, sign * 20], dim: 1);            // NOR, ANO, SEG all right
        using var parts = loss.Compute(logits, mask);
        var total = new LossWeights().Total(null, parts).item<float>();
        Assert.True(total < 1e-3, $"total {total}");

        using var side = VisionBuilder.Build(VisionPresets.Tiny);
        var output = side.Agmd.forward(randn(2, 64, 16, 16), randn(2, 3, 64));
        using var parts2 = loss.Compute(output.Logits, zeros(2, 64, 64));
        new LossWeights().Total(null, parts2).backward();
        Assert.All(side.Agmd.parameters(), p => Assert.NotNull(p.grad));
    }
    /// <summary>HardBCE is the mean BCE over each mask's hardest ⌈fraction·hw⌉ pixels, SEG plus the NOR/ANO pair,
    /// checked against a hand computation; it enters the total with its weight (0 = the paper's loss unchanged).</summary>
    [Fact]
    public void HardBceIsTheMeanBceOfTheHardestPixelsAndOnlyCountsWithItsWeight()
    {
        using var scope = NewDisposeScope();
        // One normal 4×4 image (empty mask): 15 pixels confidently right (logit −6), one confidently wrong (+3).
        var mask = zeros(1, 4, 4);
        var seg = full(1, 4, 4, -6f);
        seg[0, 1, 2] = tensor(3f);
        // NOR/ANO: the relative logits put P_ano = sigmoid(ano − nor); same margins as SEG.
        var logits = stack([zeros(1, 4, 4), seg, seg], dim: 1);                    // [1, 3, 4, 4]: NOR, ANO, SEG
        var config = new SegmentationLossConfig(HardPixelFraction: 2.0 / 16);     // the 2 hardest pixels
        using var parts = new SegmentationLoss(config).Compute(logits, mask);
        double wrong = Math.Log(1 + Math.Exp(3)), right = Math.Log(1 + Math.Exp(-6));
        double expectedHard = 2 * (wrong + right) / 2;                            // SEG + relative, mean of the top 2
        Assert.Equal(expectedHard, parts.HardBce.item<float>(), 4);
        Assert.Equal((wrong + 15 * right) / 16, parts.BceSeg.item<float>(), 4);  // the mean BCE barely moves

        var paper = new LossWeights();
        var weighted = paper with { HardBceWeight = 0.5 };
        Assert.Equal(paper.Total(null, parts).item<float>() + 0.5 * expectedHard, weighted.Total(null, parts).item<float>(), 4);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void HardPixelFractionOutsideTheUnitIntervalIsAConfigError(double fraction)
    {
        var config = VisionPresets.Tiny with { Loss = new SegmentationLossConfig(HardPixelFraction: fraction) };
        var e = Assert.Throws<ModelConfigException>(() => VisionBuilder.Validate(config));
        Assert.Contains("Loss.HardPixelFraction", e.Message);
    }

    /// <summary>Model configurations written when the loss weights were part of them still load (the weights now live in
    /// <see cref="LossWeights"/>, bound by the training configuration).</summary>
    [Fact]
    public void AModelConfigWithTheFormerLossWeightsStillLoads()
    {
        var json = AgVasConfig.Preset("tiny").ToJson().Replace("\"DiceScale\"", "\"BceWeight\": 0.5, \"DiceWeight\": 2, \"HardBceWeight\": 0, \"DiceScale\"");
        Assert.Contains("BceWeight", json);
        var config = AgVasConfig.FromJson(json, "agvas_config.json");
        Assert.Equal(new SegmentationLossConfig(), config.Vision.Loss);
    }

    /// <summary>A misspelt setting would otherwise be dropped silently and the model built with the default.</summary>
    [Theory]
    [InlineData("\"DiceScale\"", "\"DiceScal\": 1, \"DiceScale\"", "Vision.Loss.DiceScal")]
    [InlineData("\"Vision\"", "\"Seed\": 3, \"Vision\"", "Seed")]
    public void AnUnknownSettingIsAnErrorNamingItsPath(string anchor, string replacement, string path)
    {
        var json = AgVasConfig.Preset("tiny").ToJson();
        Assert.Contains(anchor, json);
        var e = Assert.Throws<CheckpointException>(() => AgVasConfig.FromJson(json.Replace(anchor, replacement), "m/agvas_config.json"));
        Assert.Contains("m/agvas_config.json", e.Message);
        Assert.Contains($"unknown setting '{path}'", e.Message);
    }
}

public sealed class VisionDisposeTests
{
    [Fact]
    public void ForwardsAndLossLeaveNoLiveTensorsBeyondTheirOutputs()
    {
        using var side = VisionBuilder.Build(VisionPresets.Tiny);
        side.eval();
        var loss = new SegmentationLoss(new SegmentationLossConfig());
        using var image = torch.rand(1, 3, 256, 256);
        using var semantic = torch.rand(1, 3, 224, 224);
        using var anchors = torch.randn(1, 3, 256);
        using var mask = torch.zeros(1, 64, 64);
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using (torch.no_grad())
        {
            using var features = side.SemanticEncoder.forward(semantic);
            using var fs = side.Projector.forward(features);
            using var fp = side.PixelEncoder.forward(image);
            using var aligned = side.Spam.forward(fs, fp);
            using var refined = side.TokenRefiner.forward(anchors);
            using var output = side.Agmd.forward(fp, refined);
            using var parts = loss.Compute(output.Logits, mask);
        }
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
