using AgVas.Checkpoints;
using AgVas.Data;
using AgVas.Modeling;
using AgVas.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Tests.Modeling;

public sealed class AgVasModelTests : IDisposable
{
    private readonly DirectoryInfo dir = Directory.CreateTempSubdirectory("agvas-model-");

    public void Dispose() => dir.Delete(true);

    internal static (AgVasModel Model, Qwen2Tokenizer Tokenizer) Tiny(int seed = 7)
    {
        manual_seed(seed);
        var model = new AgVasModel(AgVasConfig.Preset("tiny"));
        var tokenizer = Qwen2Tokenizer.Tiny();
        LlavaOnevisionCheckpoint.AddAnchors(tokenizer, model.Config.Llm.VocabSize, "tiny");
        return (model, tokenizer);
    }

    internal static RgbImage RandomImage(int width, int height, int seed)
    {
        var rng = new Random(seed);
        var pixels = new byte[width * height * 3];
        rng.NextBytes(pixels);
        return new RgbImage(width, height, pixels);
    }

    private static BinaryMask Square(int width, int height)
    {
        var m = new BinaryMask(width, height);
        for (int y = height / 4; y < height / 2; y++)
            for (int x = width / 4; x < width / 2; x++) m.Data[y * width + x] = true;
        return m;
    }

    private static AgVasLoss LossOfTwo(AgVasModel model, Qwen2Tokenizer tokenizer)
    {
        var images = new[] { RandomImage(96, 64, 1), RandomImage(50, 80, 2) };
        var masks = new[] { Square(96, 64), new BinaryMask(50, 80) };
        var (semantic, pixel) = AgVasInputs.Images(images, model.Config.Vision);
        var maskTensor = AgVasInputs.Masks(masks, model.Config.Vision.PixelEncoder.ImageSize);
        ChatMessage[][] conversations =
        [
            [new("user", "<image>\nIs there any anomaly?"), new("assistant", "A scratch on the left. [NOR] [ANO] [SEG]")],
            [new("user", "<image>\nPlease segment the anomaly."), new("assistant", "Sure, it is [NOR] [ANO] [SEG].")],
        ];
        var encoded = conversations.Select(c => ChatTemplate.EncodeForTraining(tokenizer, c)).ToList();
        return model.Loss(semantic, pixel, maskTensor, encoded.Select(e => e.Ids).ToList(), encoded.Select(e => e.IsTarget).ToList());
    }

    [Fact]
    public void ExactlyTheTrainableModulesReceiveGradients()
    {
        using var scope = NewDisposeScope();
        var (model, tokenizer) = Tiny();
        model.train();
        // Fresh LoRA B is zero, which would leave A without gradient: start from a non-zero adapter.
        using (no_grad()) foreach (var p in model.Llm.LanguageModel.AdapterParameters()) p.add_(0.01);
        using var loss = LossOfTwo(model, tokenizer);
        Assert.True(float.IsFinite(loss.Total.item<float>()));
        Assert.True(loss.Text.item<float>() > 0);
        loss.Total.backward();

        var byModule = new HashSet<object>(ReferenceEqualityComparer.Instance);
        foreach (var p in model.Llm.LanguageModel.AdapterParameters()) byModule.Add(p);
        foreach (var p in model.Llm.AddedTokens.parameters()) byModule.Add(p);
        foreach (var m in new nn.Module[] { model.Vision.Spam, model.Vision.TokenRefiner, model.Vision.Agmd })
            foreach (var p in m.parameters()) byModule.Add(p);
        var trainable = model.TrainableParameters();
        Assert.Equal(byModule.Count, trainable.Count);
        Assert.All(trainable, t => Assert.Contains(t.Parameter, byModule));

        foreach (var (name, p) in model.named_parameters())
        {
            bool shouldTrain = byModule.Contains(p);
            Assert.True(shouldTrain == p.requires_grad, $"{name}: requires_grad {p.requires_grad}");
            bool hasGrad = p.grad is not null && p.grad.abs().sum().item<float>() > 0;
            Assert.True(shouldTrain == hasGrad, $"{name}: gradient {(hasGrad ? "present" : "absent")}");
        }
        Assert.Contains(trainable, t => t.Name == "llm.added_tokens.embed_tokens");
        Assert.DoesNotContain(trainable, t => t.Name.StartsWith("llm.language_model.model.embed_tokens", StringComparison.Ordinal));
    }

    [Fact]
    public void TrainingEverythingSendsGradientsThroughTheEncoders()
    {
        using var scope = NewDisposeScope();
        var (model, tokenizer) = Tiny();
        model.train();
        model.TrainEverything();
        Assert.Equal(model.named_parameters().Count(), model.TrainableParameters().Count);
        using var loss = LossOfTwo(model, tokenizer);
        loss.Total.backward();
        foreach (var m in new nn.Module[] { model.Vision.SemanticEncoder, model.Vision.Projector, model.Vision.PixelEncoder, model.Llm.LanguageModel })
        {
            var withGrad = m.parameters().Count(p => p.grad is not null && p.grad.abs().sum().item<float>() > 0);
            Assert.True(withGrad > m.parameters().Count() / 2, $"{m.GetName()}: {withGrad} of {m.parameters().Count()} weights have a gradient");
        }
    }

    [Fact]
    public void SaveAndLoadRoundTripBitExact()
    {
        using var scope = NewDisposeScope();
        var (model, tokenizer) = Tiny(8);
        AgVasModelDirectory.Save(dir.FullName, model, tokenizer);
        var (back, backTokenizer) = AgVasModelDirectory.Load(dir.FullName);
        Assert.Equal(model.Config.ToJson(), back.Config.ToJson());
        var loaded = back.state_dict();
        foreach (var (name, t) in model.state_dict())
            Assert.True(t.allclose(loaded[name], 0, 0) && t.dtype == loaded[name].dtype, $"{name} differs");
        Assert.Equal(tokenizer.AddedTokens, backTokenizer.AddedTokens);
    }

    [Fact]
    public void TruncatedWeightsAreRejectedNamingTheFile()
    {
        var (model, tokenizer) = Tiny(9);
        AgVasModelDirectory.Save(dir.FullName, model, tokenizer);
        model.Dispose();
        var weights = Path.Combine(dir.FullName, AgVasModelDirectory.WeightsFileName);
        var bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length * 2 / 3)]);
        var e = Assert.Throws<CheckpointException>(() => AgVasModelDirectory.Load(dir.FullName));
        Assert.Contains(weights, e.Message);
    }

    [Fact]
    public void PresetsAreConsistentAndCounted()
    {
        foreach (var name in AgVasConfig.PresetNames) AgVasConfig.Preset(name).Validate();
        var counts = LlmParameterCounts.Compute(Qwen2Config.Ov05b, new LoraConfig());
        Assert.Equal(494_090_112L + 3 * 896, counts[0].Value.Total);
        Assert.Equal(3 * 896L, counts[0].Value.Trainable);
        // r = 16 on q/k/v/o of 24 layers: 16·((896+896) + 2·(896+128) + (896+896)) · 24.
        Assert.Equal(16L * (1792 + 2 * 1024 + 1792) * 24, counts[1].Value.Total);
        using var tiny = new Qwen2ForCausalLM("lm", Qwen2Config.Tiny, new LoraConfig());
        Assert.Equal(tiny.AdapterParameters().Sum(p => p.numel()), LlmParameterCounts.LoraParameterCount(Qwen2Config.Tiny, new LoraConfig()));
        var bad = AgVasConfig.Preset("tiny") with { Llm = Qwen2Config.Tiny with { HiddenSize = 96, NumAttentionHeads = 4 } };
        var e = Assert.Throws<ModelConfigException>(() => bad.Validate());
        Assert.Contains("Projector.OutputSize", e.Message);
    }
}
