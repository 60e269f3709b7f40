using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AgVas.Modeling;

/// <summary>
/// The one place that checks a <see cref="VisionConfig"/> and builds its modules. Every failed invariant raises
/// <see cref="ModelConfigException"/> naming the field, e.g. <c>PixelEncoder.NumAttentionHeads</c>.
/// </summary>
public static class VisionBuilder
{
    /// <summary>Builds the six components with fresh random weights (no disk or network access).</summary>
    public static VisionSide Build(VisionConfig config)
    {
        Validate(config);
        return new VisionSide(config);
    }

    public static void Validate(VisionConfig c)
    {
        if (c.ResNet is { } resnet) ValidateResNet(c, resnet);
        else ValidateVit(c);

        var sp = c.Spam;
        Equal("Spam.SemanticDim", sp.SemanticDim, "Projector.OutputSize", c.Projector.OutputSize);
        Equal("Spam.PixelDim", sp.PixelDim, "pixel channels (PixelEncoder.OutputChannels or ResNet.OutputChannels)", c.PixelChannels);
        Equal("Spam.PixelGridSize", sp.PixelGridSize, "pixel grid (PixelEncoder.ImageSize / PatchSize or ResNet.ImageSize / 4)", c.PixelGridSize);
        Positive("Spam.Dim", sp.Dim);
        Positive("Spam.NumHeads", sp.NumHeads);
        Divisible("Spam.Dim", sp.Dim, "Spam.NumHeads", sp.NumHeads);
        if (sp.PositionalEncoding == SpamPositionalEncoding.Fourier && sp.PixelDim % 2 != 0)
            throw new ModelConfigException("Spam.PixelDim", $"{sp.PixelDim} must be even for the Fourier positional encoding");

        var t = c.TokenRefiner;
        Equal("TokenRefiner.InputDim", t.InputDim, "Projector.OutputSize (LLM hidden size)", c.Projector.OutputSize);

        var a = c.Agmd;
        Equal("Agmd.HiddenSize", a.HiddenSize, "pixel channels (PixelEncoder.OutputChannels or ResNet.OutputChannels)", c.PixelChannels);
        Equal("TokenRefiner.OutputDim", t.OutputDim, "Agmd.HiddenSize", a.HiddenSize);
        Positive("Agmd.NumHiddenLayers", a.NumHiddenLayers);
        Positive("Agmd.NumAttentionHeads", a.NumAttentionHeads);
        Positive("Agmd.MlpDim", a.MlpDim);
        Positive("Agmd.AttentionDownsampleRate", a.AttentionDownsampleRate);
        Divisible("Agmd.HiddenSize", a.HiddenSize, "8 (the upscaling halves the width three times)", 8);
        Divisible("Agmd.HiddenSize", a.HiddenSize, "Agmd.AttentionDownsampleRate", a.AttentionDownsampleRate);
        Divisible("Agmd.HiddenSize / Agmd.AttentionDownsampleRate", a.HiddenSize / a.AttentionDownsampleRate, "Agmd.NumAttentionHeads", a.NumAttentionHeads);
        if (a.Alpha is < 0 or > 1 || double.IsNaN(a.Alpha)) throw new ModelConfigException("Agmd.Alpha", $"{a.Alpha} is outside [0, 1]");
        if (a.Threshold is <= 0 or >= 1 || double.IsNaN(a.Threshold)) throw new ModelConfigException("Agmd.Threshold", $"{a.Threshold} is outside (0, 1)");
        if (!(a.SeedThreshold >= a.Threshold && a.SeedThreshold < 1))
            throw new ModelConfigException("Agmd.SeedThreshold", $"{a.SeedThreshold} is outside [Agmd.Threshold = {a.Threshold}, 1)");

        var l = c.Loss;
        if (l.DiceScale <= 0) throw new ModelConfigException("Loss.DiceScale", $"{l.DiceScale} must be positive");
        if (l.HardPixelFraction is <= 0 or > 1 || double.IsNaN(l.HardPixelFraction))
            throw new ModelConfigException("Loss.HardPixelFraction", $"{l.HardPixelFraction} is outside (0, 1]");
    }

    private static void ValidateResNet(VisionConfig c, ResNetEncoderConfig r)
    {
        Positive("ResNet.ImageSize", r.ImageSize);
        Divisible("ResNet.ImageSize", r.ImageSize, "32 (the backbone's deepest stride)", 32);
        Positive("ResNet.OutputChannels", r.OutputChannels);
        Positive("ResNet.SemanticGrid", r.SemanticGrid);
        if (r.SemanticGrid > r.ImageSize / 32)
            throw new ModelConfigException("ResNet.SemanticGrid", $"{r.SemanticGrid} exceeds layer4's grid {r.ImageSize / 32} at ResNet.ImageSize = {r.ImageSize}");
        if (r.Scales is { } scales)
        {
            if (!scales.Contains(r.ImageSize))
                throw new ModelConfigException("ResNet.Scales", $"[{string.Join(", ", scales)}] must include ResNet.ImageSize = {r.ImageSize} (the run whose text is answered)");
            if (scales.Distinct().Count() != scales.Count) throw new ModelConfigException("ResNet.Scales", $"[{string.Join(", ", scales)}] repeats a size");
            foreach (var size in scales)
            {
                if (size is < 64 or > 2048 || size % 32 != 0)
                    throw new ModelConfigException("ResNet.Scales", $"{size} is not a multiple of 32 in [64, 2048]");
                if (r.SemanticGrid > size / 32)
                    throw new ModelConfigException("ResNet.Scales", $"{size} gives layer4 a {size / 32}² grid, smaller than ResNet.SemanticGrid = {r.SemanticGrid}");
            }
            if (scales.Count > 1 && c.Spam.PositionalEncoding == SpamPositionalEncoding.Learned)
                throw new ModelConfigException("ResNet.Scales", "a learned SPAM position embedding has one grid size: use one scale");
        }
        if (r.RarityChannels is < 0 or > 3) throw new ModelConfigException("ResNet.RarityChannels", $"{r.RarityChannels} is outside 0..3");
        if (r.Stages.Count == 0 || r.Stages.Any(st => st is < 1 or > 4) || r.Stages.Distinct().Count() != r.Stages.Count)
            throw new ModelConfigException("ResNet.PixelStages", $"[{string.Join(", ", r.Stages)}] must be distinct stages from 1..4");
        Equal("Projector.InputSize", c.Projector.InputSize, "ResNet layer4 width", ResNetEncoderConfig.SemanticWidth);
        Positive("Projector.OutputSize", c.Projector.OutputSize);
    }

    private static void ValidateVit(VisionConfig c)
    {
        var s = c.SemanticEncoder;
        Positive("SemanticEncoder.HiddenSize", s.HiddenSize);
        Positive("SemanticEncoder.IntermediateSize", s.IntermediateSize);
        Positive("SemanticEncoder.NumHiddenLayers", s.NumHiddenLayers);
        Positive("SemanticEncoder.NumAttentionHeads", s.NumAttentionHeads);
        Positive("SemanticEncoder.PatchSize", s.PatchSize);
        if (s.ImageSize < s.PatchSize) throw new ModelConfigException("SemanticEncoder.ImageSize", $"{s.ImageSize} is smaller than SemanticEncoder.PatchSize = {s.PatchSize}");
        Divisible("SemanticEncoder.HiddenSize", s.HiddenSize, "SemanticEncoder.NumAttentionHeads", s.NumAttentionHeads);
        if (s.LayersUsed < 1 || s.LayersUsed > s.NumHiddenLayers)
            throw new ModelConfigException("SemanticEncoder.FeatureLayer", $"{s.FeatureLayer} selects no encoder layer of {s.NumHiddenLayers}");

        var pr = c.Projector;
        Equal("Projector.InputSize", pr.InputSize, "SemanticEncoder.HiddenSize", s.HiddenSize);
        Positive("Projector.OutputSize", pr.OutputSize);

        var p = c.PixelEncoder;
        Positive("PixelEncoder.HiddenSize", p.HiddenSize);
        Positive("PixelEncoder.NumHiddenLayers", p.NumHiddenLayers);
        Positive("PixelEncoder.NumAttentionHeads", p.NumAttentionHeads);
        Positive("PixelEncoder.MlpDim", p.MlpDim);
        Positive("PixelEncoder.PatchSize", p.PatchSize);
        Positive("PixelEncoder.OutputChannels", p.OutputChannels);
        Positive("PixelEncoder.WindowSize", p.WindowSize);
        if (p.AttentionQueryChunk < 0) throw new ModelConfigException("PixelEncoder.AttentionQueryChunk", $"{p.AttentionQueryChunk} is negative");
        Divisible("PixelEncoder.HiddenSize", p.HiddenSize, "PixelEncoder.NumAttentionHeads", p.NumAttentionHeads);
        Divisible("PixelEncoder.ImageSize", p.ImageSize, "PixelEncoder.PatchSize", p.PatchSize);
        foreach (var g in p.GlobalAttnIndexes)
            if (g < 0 || g >= p.NumHiddenLayers)
                throw new ModelConfigException("PixelEncoder.GlobalAttnIndexes", $"layer {g} is outside 0..{p.NumHiddenLayers - 1}");
    }

    private static void Positive(string field, int value)
    {
        if (value <= 0) throw new ModelConfigException(field, $"{value} must be positive");
    }

    private static void Divisible(string field, int value, string byField, int by)
    {
        if (by <= 0 || value % by != 0) throw new ModelConfigException(field, $"{value} is not divisible by {byField} = {by}");
    }

    private static void Equal(string field, int value, string otherField, int other)
    {
        if (value != other) throw new ModelConfigException(field, $"{value} must equal {otherField} = {other}");
    }
}

/// <summary>
/// The vision and mask side as one module tree: <c>semantic_encoder</c>, <c>projector</c>, <c>pixel_encoder</c>
/// (frozen), <c>spam</c>, <c>token_refiner</c>, <c>agmd</c> (trainable). The full AgVasModel wires these around the LLM;
/// this class only holds them and freezes the encoders. With <see cref="VisionConfig.ResNet"/>, the shared frozen
/// <see cref="ResNet18"/> (<see cref="Checkpoints.ResNet18Onnx.Shared"/>, outside this tree and its state_dict) replaces
/// both encoders, and <c>projector</c> and <c>pixel_neck</c> train.
/// </summary>
public sealed class VisionSide : nn.Module
{
    private readonly SemanticEncoder? semantic_encoder;
    private readonly Projector projector;
    private readonly PixelEncoder? pixel_encoder;
    private readonly ResNetPixelNeck? pixel_neck;
    private readonly Spam spam;
    private readonly TokenRefiner token_refiner;
    private readonly Agmd agmd;

    internal VisionSide(VisionConfig config) : base(nameof(VisionSide))
    {
        Config = config;
        projector = new Projector(config.Projector);
        if (config.ResNet is { } resnet)
        {
            Backbone = Checkpoints.ResNet18Onnx.Shared;
            pixel_neck = new ResNetPixelNeck(resnet);
        }
        else
        {
            semantic_encoder = new SemanticEncoder(config.SemanticEncoder);
            pixel_encoder = new PixelEncoder(config.PixelEncoder);
        }
        spam = new Spam(config.Spam);
        token_refiner = new TokenRefiner(config.TokenRefiner);
        agmd = new Agmd(config.Agmd);
        RegisterComponents();
        var frozen = config.ResNet is null ? new nn.Module[] { semantic_encoder!, projector, pixel_encoder! } : [];
        foreach (var module in frozen)
            foreach (var parameter in module.parameters()) parameter.requires_grad = false;
    }

    public VisionConfig Config { get; }
    /// <summary>The frozen ImageNet ResNet-18 and its preprocessing (ResNet configurations only).</summary>
    public (ResNet18 Model, ResNetPreprocess Preprocess)? Backbone { get; }
    public SemanticEncoder SemanticEncoder => semantic_encoder ?? throw new InvalidOperationException("a ResNet configuration has no SigLIP semantic encoder");
    public Projector Projector => projector;
    public PixelEncoder PixelEncoder => pixel_encoder ?? throw new InvalidOperationException("a ResNet configuration has no SAM pixel encoder");
    public ResNetPixelNeck PixelNeck => pixel_neck ?? throw new InvalidOperationException("a ViT configuration has no ResNet pixel neck");
    public Spam Spam => spam;
    public TokenRefiner TokenRefiner => token_refiner;
    public Agmd Agmd => agmd;

    /// <summary>The components by their summary names, in data-flow order.</summary>
    public IReadOnlyList<(string Name, nn.Module Module)> Components => Config.ResNet is null
        ?
        [
            (VisionParameterCounts.SemanticEncoder, semantic_encoder!),
            (VisionParameterCounts.Projector, projector),
            (VisionParameterCounts.PixelEncoder, pixel_encoder!),
            (VisionParameterCounts.Spam, spam),
            (VisionParameterCounts.TokenRefiner, token_refiner),
            (VisionParameterCounts.Agmd, agmd),
        ]
        :
        [
            (VisionParameterCounts.Backbone, Backbone!.Value.Model),
            (VisionParameterCounts.Projector, projector),
            (VisionParameterCounts.PixelNeck, pixel_neck!),
            (VisionParameterCounts.Spam, spam),
            (VisionParameterCounts.TokenRefiner, token_refiner),
            (VisionParameterCounts.Agmd, agmd),
        ];
}
