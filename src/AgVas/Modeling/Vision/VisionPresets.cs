namespace AgVas.Modeling;

/// <summary>
/// Named sizes of the vision side. <c>paper</c>: LLaVA-OneVision-7B's SigLIP + SAM ViT-H + a 3584-wide LLM;
/// <c>ov-0.5b</c>: the same SigLIP + SAM ViT-B + Qwen2-0.5B's 896; <c>tiny</c>: a CPU-trainable miniature.
/// </summary>
public static class VisionPresets
{
    public static IReadOnlyList<string> Names { get; } = ["paper", "ov-0.5b", "tiny", "tiny-resnet"];

    /// <summary>
    /// SigLIP-so400m-patch14-384 as LLaVA-OneVision ships it: the public tower has 27 layers, LLaVA-OneVision drops the
    /// last one (HF's conversion sets num_hidden_layers = 26, vision_use_head = false) and uses the last remaining
    /// layer's output without the post-layernorm (vision_feature_layer = -1, strategy "full"): 729 tokens of width 1152.
    /// </summary>
    public static SemanticEncoderConfig SiglipSo400mLlavaOnevision { get; } = new(
        HiddenSize: 1152, IntermediateSize: 4304, NumHiddenLayers: 26, NumAttentionHeads: 16, ImageSize: 384, PatchSize: 14);

    public static PixelEncoderConfig SamVitB { get; } = new(768, 12, 12, 3072, [2, 5, 8, 11]);
    public static PixelEncoderConfig SamVitL { get; } = new(1024, 24, 16, 4096, [5, 11, 17, 23]);
    public static PixelEncoderConfig SamVitH { get; } = new(1280, 32, 16, 5120, [7, 15, 23, 31]);

    /// <summary>SAM's mask decoder sizes (depth 2, width 256, 8 heads, MLP 2048, downsample 2).</summary>
    public static AgmdConfig SamDecoder { get; } = new();

    /// <summary>
    /// tiny (ours, documented): SigLIP-like 4 layers × 128 wide, 4 heads, MLP 512 at 224 px / patch 16 (196 tokens);
    /// SAM-like ViT 4 layers × 128 wide, 4 heads, MLP 512 at 256 px / patch 16 (16×16 grid, windows of 8, global
    /// attention at layers 1 and 3, neck to 64 channels); decoder width 64, 4 heads, MLP 256 (low-res maps 64×64);
    /// LLM width 256 with 4 heads.
    /// </summary>
    public static VisionConfig Tiny { get; } = VisionConfig.Compose(
        new SemanticEncoderConfig(128, 512, 4, 4, 224, 16),
        new PixelEncoderConfig(128, 4, 4, 512, [1, 3], ImageSize: 256, PatchSize: 16, OutputChannels: 64, WindowSize: 8),
        new AgmdConfig(HiddenSize: 64, NumHiddenLayers: 2, NumAttentionHeads: 4, MlpDim: 256),
        llmHiddenSize: 256, llmNumHeads: 4);

    /// <summary>
    /// tiny-resnet (ours, #15): the frozen ImageNet ResNet-18 of NuGet's Microsoft.ML.DnnImageFeaturizer.ResNet18 as both
    /// encoders at 256 px: 64 semantic tokens from layer4 (8×8) through the projector; f_p = stages 1–3 fused at stride 4
    /// (64×64, 64 channels) plus three in-image rarity maps; AGMD as in tiny but upscaling bilinearly (maps 256×256).
    /// </summary>
    public static VisionConfig TinyResNet { get; } = WithResNet(Tiny, new ResNetEncoderConfig(ImageSize: 256));

    /// <summary>A configuration re-based on the frozen ResNet-18: projector input 512, SPAM and AGMD sized to the
    /// ResNet neck's f_p, AGMD upscaling bilinearly.</summary>
    public static VisionConfig WithResNet(VisionConfig c, ResNetEncoderConfig r) => c with
    {
        ResNet = r,
        Projector = c.Projector with { InputSize = ResNetEncoderConfig.SemanticWidth },
        Spam = c.Spam with { PixelDim = r.OutputChannels, PixelGridSize = r.GridSize },
        Agmd = c.Agmd with { HiddenSize = r.OutputChannels, Upscale = AgmdUpscale.Bilinear },
        TokenRefiner = c.TokenRefiner with { OutputDim = r.OutputChannels },
    };

    /// <summary>Paper: LLaVA-OneVision-7B (Qwen2-7B: hidden 3584, 28 heads) + SAM ViT-H.</summary>
    public static VisionConfig Paper { get; } = VisionConfig.Compose(SiglipSo400mLlavaOnevision, SamVitH, SamDecoder, 3584, 28);

    /// <summary>LLaVA-OneVision-0.5B (Qwen2-0.5B: hidden 896, 14 heads) + SAM ViT-B.</summary>
    public static VisionConfig Ov05b { get; } = VisionConfig.Compose(SiglipSo400mLlavaOnevision, SamVitB, SamDecoder, 896, 14);

    /// <summary>The preset of that name; throws <see cref="ModelConfigException"/> listing the known names otherwise.</summary>
    public static VisionConfig Get(string name) => name switch
    {
        "paper" => Paper,
        "ov-0.5b" => Ov05b,
        "tiny" => Tiny,
        "tiny-resnet" => TinyResNet,
        _ => throw new ModelConfigException("preset", $"unknown preset '{name}' (known: {string.Join(", ", Names)})"),
    };
}
