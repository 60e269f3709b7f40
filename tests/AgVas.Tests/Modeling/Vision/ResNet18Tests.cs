using AgVas.Checkpoints;
using AgVas.Data;
using AgVas.Modeling;
using AgVas.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Tests.Modeling;

/// <summary>The pretrained ResNet-18 from its NuGet package (restored in CI too), against golden values that
/// tools/golden/resnet18_onnx.py computed from the same ONNX file with python3-onnx + python3-torch.</summary>
public sealed class ResNet18Tests
{
    private static (ResNet18 Model, ResNetPreprocess Preprocess) Backbone => ResNet18Onnx.Shared;

    [Fact]
    public void ThePackageFilesReachTheBuildOutput()
    {
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, ResNet18Onnx.ModelRelativePath)));
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, ResNet18Onnx.PreprocessRelativePath)));
        Assert.StartsWith(AppContext.BaseDirectory, ResNet18Onnx.Locate(ResNet18Onnx.ModelRelativePath));
    }

    [Fact]
    public void StagesMatchTheIndependentReference()
    {
        using var scope = NewDisposeScope();
        using var golden = new GoldenFixture("resnet18_onnx");
        foreach (var (input, prefix) in new[] { ("pixels", "stage"), ("pixels_odd", "odd_stage") })
        {
            using var stages = Backbone.Model.forward(golden.Input(input));
            for (int s = 1; s <= 4; s++)
            {
                var expected = golden.Output(prefix + s);
                var actual = stages[s];
                Assert.Equal(expected.shape, actual.shape);
                // Relative to the stage's largest magnitude: BN folding and BLAS order differ from the reference.
                double error = (actual - expected).abs().max().item<float>() / expected.abs().max().item<float>();
                Assert.True(error < 1e-4, $"{input} stage {s}: max error {error:E2} of the largest value");
            }
        }
    }

    [Fact]
    public void At224TheGraphsOwnPooledOutputIsReproduced()
    {
        using var scope = NewDisposeScope();
        using var golden = new GoldenFixture("resnet18_onnx");
        using var stages = Backbone.Model.forward(golden.Output("preprocessed"));                  // the stored pads at 224²
        GoldenFixture.AssertClose(golden.Output("rgb_stage4"), stages.Stage4, 1e-3);
        var pooled = stages.Stage4.mean([2, 3], keepdim: true);                                     // AveragePool 7×7
        GoldenFixture.AssertClose(golden.Output("rgb_features"), pooled, 1e-3);
    }

    [Fact]
    public void PreprocessingMatchesThePackageGraph()
    {
        using var scope = NewDisposeScope();
        using var golden = new GoldenFixture("resnet18_onnx");
        var actual = Backbone.Preprocess.Apply(golden.Input("rgb"));
        var expected = golden.Output("preprocessed");
        Assert.Equal(expected.shape, actual.shape);
        Assert.True((actual - expected).abs().max().item<float>() < 1e-3);
    }

    [Fact]
    public void AnyInputSizeGivesStridesFourToThirtyTwo()
    {
        using var scope = NewDisposeScope();
        using var stages = Backbone.Model.forward(zeros(2, 3, 96, 160));
        Assert.Equal(new long[] { 2, 64, 24, 40 }, stages.Stage1.shape);
        Assert.Equal(new long[] { 2, 128, 12, 20 }, stages.Stage2.shape);
        Assert.Equal(new long[] { 2, 256, 6, 10 }, stages.Stage3.shape);
        Assert.Equal(new long[] { 2, 512, 3, 5 }, stages.Stage4.shape);
        Assert.Equal(ResNet18.ParameterCount, Backbone.Model.parameters().Sum(p => p.numel()));
        Assert.All(Backbone.Model.parameters(), p => Assert.False(p.requires_grad));
    }

    [Fact]
    public void AMissingBackboneNamesTheFileAndThePackage()
    {
        var e = Assert.Throws<CheckpointException>(() => ResNet18Onnx.LoadModel("/nonexistent/ResNet18.onnx"));
        Assert.Contains("/nonexistent/ResNet18.onnx", e.Message);
        Assert.Contains(ResNet18Onnx.PackageId, e.Message);
    }

    [Fact]
    public void ATruncatedBackboneNamesTheFileAndThePackage()
    {
        using var dir = new TempDir();
        var source = ResNet18Onnx.Locate(ResNet18Onnx.ModelRelativePath);
        var path = Path.Combine(dir.Path, "ResNet18.onnx");
        using (var input = File.OpenRead(source))
        using (var output = File.Create(path))
        {
            var buffer = new byte[1 << 20];
            int n = input.Read(buffer);
            output.Write(buffer, 0, n);
        }
        var e = Assert.Throws<CheckpointException>(() => ResNet18Onnx.LoadModel(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(ResNet18Onnx.PackageId, e.Message);
        File.WriteAllBytes(path, [0x08, 0x03, 0x12]);
        Assert.Throws<CheckpointException>(() => ResNet18Onnx.LoadModel(path));
    }

    [Fact]
    public void RarityIsHighestAtTheOnePatchUnlikeTheRest()
    {
        using var scope = NewDisposeScope();
        // A repetitive texture (stripes) with one dark square: its patches have no look-alikes.
        var x = zeros(1, 3, 128, 128);
        for (int i = 0; i < 128; i += 8) x[.., .., .., i..(i + 4)] = tensor(200f);
        x[.., .., 48..64, 72..88] = tensor(0f);
        using var stages = Backbone.Model.forward(Backbone.Preprocess.Apply(x));
        var r = ResNetPixelNeck.Rarity(stages.Stage2, stages.Stage3, 3)[0, 0];                     // [16, 16]
        var argmax = r.argmax().item<long>();
        long row = argmax / 16, col = argmax % 16;
        Assert.InRange(row, 5, 8);
        Assert.InRange(col, 8, 11);
    }

    /// <summary>Rarity's k-th nearest distances equal the definition's: sort each patch's distances to the other
    /// patches, take the k-th.</summary>
    [Fact]
    public void RarityIsTheKthNearestOtherPatchDistance()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var s2 = randn(2, 128, 10, 12);
        var s3 = randn(2, 256, 5, 6);
        var r = ResNetPixelNeck.Rarity(s2, s3, 3);                                                  // [2, 3, 10, 12]
        var f = cat([nn.functional.normalize(s2, dim: 1),
            nn.functional.normalize(nn.functional.interpolate(s3, size: [10, 12], mode: InterpolationMode.Bilinear, align_corners: false), dim: 1)], dim: 1)
            .div(Math.Sqrt(2)).flatten(2).transpose(1, 2);                                            // [2, 120, 384]
        var sorted = cdist(f, f).sort(dim: 2).Values[.., .., 1..];                                  // [2, 120, 119] without self (0)
        foreach (var (k, c) in new[] { (1L, 0), (6L, 1), (30L, 2) })                                // N/100 → 1, N/20, N/4 of N = 120
            Assert.True(r[.., c].flatten(1).allclose(sorted[.., .., k - 1], rtol: 1e-4, atol: 1e-4), $"k = {k}");
    }
}

/// <summary>AG-VAS on the frozen ResNet-18 (the tiny-resnet preset).</summary>
public sealed class AgVasResNetModelTests
{
    [Fact]
    public void TheBackboneStaysOutOfTheStateDictAndGetsNoGradient()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var model = new AgVasModel(AgVasConfig.Preset("tiny-resnet"));
        model.TrainEverything();
        Assert.DoesNotContain(model.state_dict().Keys, k => k.Contains("layer4.") || k.Contains("downsample"));
        var counts = VisionParameterCounts.Compute(model.Config.Vision).ToDictionary(kv => kv.Key, kv => kv.Value);
        foreach (var (name, module) in model.Vision.Components)
            Assert.Equal(counts[name].Total, module.parameters().Sum(p => p.numel()));

        var tokenizer = Qwen2Tokenizer.Tiny();
        LlavaOnevisionCheckpoint.AddAnchors(tokenizer, model.Config.Llm.VocabSize, "tiny");
        var images = new[] { AgVasModelTests.RandomImage(96, 64, 1), AgVasModelTests.RandomImage(50, 80, 2) };
        var masks = new[] { new BinaryMask(96, 64), new BinaryMask(50, 80) };
        masks[0].Data[10 * 96 + 10] = true;
        var (semantic, pixel) = AgVasInputs.Images(images, model.Config.Vision);
        Assert.Equal(new long[] { 2, 3, 256, 256 }, pixel.shape);
        var maskTensor = AgVasInputs.Masks(masks, model.Config.Vision.InputSize);
        ChatMessage[][] conversations =
        [
            [new("user", "<image>\nIs there any anomaly?"), new("assistant", "A spot. [NOR] [ANO] [SEG]")],
            [new("user", "<image>\nPlease segment the anomaly."), new("assistant", "Sure, it is [NOR] [ANO] [SEG].")],
        ];
        var encoded = conversations.Select(c => ChatTemplate.EncodeForTraining(tokenizer, c)).ToList();
        using var loss = model.Loss(semantic, pixel, maskTensor, encoded.Select(e => e.Ids).ToList(), encoded.Select(e => e.IsTarget).ToList());
        loss.Total.backward();
        Assert.True(float.IsFinite(loss.Total.item<float>()));
        Assert.All(ResNet18Onnx.Shared.Model.parameters(), p => Assert.True(p.grad is null));
        Assert.Contains(model.Vision.PixelNeck.parameters(), p => p.grad is not null && p.grad.abs().sum().item<float>() > 0);
        Assert.Contains(model.Vision.Projector.parameters(), p => p.grad is not null && p.grad.abs().sum().item<float>() > 0);
    }
}
