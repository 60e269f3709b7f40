namespace AgVas.Modeling;

/// <summary>
/// Semantic encoder F_s: the SigLIP vision transformer (AGVAS.md §2). Names follow Hugging Face's <c>SiglipVisionConfig</c>.
/// </summary>
/// <param name="FeatureLayer">
/// Which hidden state feeds the projector, indexed like HF's <c>hidden_states</c> tuple (entry 0 is the embedding output,
/// entry i the output of layer i; negative counts from the end). LLaVA-OneVision uses -1 with strategy "full": the
/// output of the last layer of its (already truncated, 26-layer) tower, all 729 tokens, <b>without</b> the post-layernorm.
/// </param>
public sealed record SemanticEncoderConfig(
    int HiddenSize,
    int IntermediateSize,
    int NumHiddenLayers,
    int NumAttentionHeads,
    int ImageSize,
    int PatchSize,
    int NumChannels = 3,
    double LayerNormEps = 1e-6,
    Activation HiddenAct = Activation.GeluTanh,
    int FeatureLayer = -1)
{
    /// <summary>Side of the patch grid; the valid convolution drops a remainder (384 / 14 → 27).</summary>
    public int GridSize => ImageSize / PatchSize;
    /// <summary>N_s: visual tokens per image.</summary>
    public int NumPatches => GridSize * GridSize;
    /// <summary>How many encoder layers run to produce the selected hidden state.</summary>
    public int LayersUsed => FeatureLayer < 0 ? NumHiddenLayers + 1 + FeatureLayer : FeatureLayer;
}

/// <summary>LLaVA-OneVision <c>mlp2x_gelu</c> visual projector: Linear → GELU → Linear, semantic width → LLM hidden size.</summary>
public sealed record ProjectorConfig(int InputSize, int OutputSize, Activation HiddenAct = Activation.Gelu);

/// <summary>
/// Pixel encoder F_p: SAM's ViT image encoder. Names follow Hugging Face's <c>SamVisionConfig</c>.
/// </summary>
/// <param name="AttentionQueryChunk">
/// AG-VAS (ours, speed/memory only): attention with relative positions runs over bands of about this many query
/// tokens, bounding the global layers' bias and weight tensors; 0 = all queries at once. Results are identical.
/// </param>
public sealed record PixelEncoderConfig(
    int HiddenSize,
    int NumHiddenLayers,
    int NumAttentionHeads,
    int MlpDim,
    IReadOnlyList<int> GlobalAttnIndexes,
    int ImageSize = 1024,
    int PatchSize = 16,
    int OutputChannels = 256,
    int WindowSize = 14,
    bool QkvBias = true,
    bool UseAbsPos = true,
    bool UseRelPos = true,
    double LayerNormEps = 1e-6,
    int NumChannels = 3,
    Activation HiddenAct = Activation.Gelu,
    int AttentionQueryChunk = 1024)
{
    /// <summary>Side of the token grid (64 for SAM at 1024 px).</summary>
    public int GridSize => ImageSize / PatchSize;
    public bool IsGlobal(int layer) => GlobalAttnIndexes.Contains(layer);
}

/// <summary>
/// AG-VAS (ours, #15): the frozen ImageNet ResNet-18 of NuGet's <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> as both
/// encoders, in place of SigLIP and SAM (which no pretrained weights reach here). One backbone pass per image:
/// the semantic side reads layer4 (stride 32) average-pooled to <see cref="SemanticGrid"/>² tokens of width 512, through
/// the (trainable) projector; the pixel side is a trainable neck (<see cref="ResNetPixelNeck"/>) that fuses
/// <see cref="PixelStages"/> at stride 4 into f_p with <see cref="OutputChannels"/> channels, plus
/// <see cref="RarityChannels"/> in-image rarity maps (the distance of each stride-8 patch to its k-th nearest patch of the
/// same image, k = N/100, N/20, N/4: a training-free cue that a patch is unlike the rest of the image).
/// </summary>
/// <param name="ImageSize">Side of the square input (longest side resized, zero-padded after normalisation); a multiple of 32.</param>
public sealed record ResNetEncoderConfig(
    int ImageSize = 256,
    IReadOnlyList<int>? PixelStages = null,
    int OutputChannels = 64,
    int SemanticGrid = 8,
    int RarityChannels = 3)
{
    /// <summary>Stages fused into f_p (default 1, 2, 3: strides 4, 8, 16).</summary>
    public IReadOnlyList<int> Stages => PixelStages ?? [1, 2, 3];
    /// <summary>f_p is at stride 4.</summary>
    public const int PixelStride = 4;
    /// <summary>Side of the f_p grid.</summary>
    public int GridSize => ImageSize / PixelStride;
    /// <summary>Width of the semantic tokens (layer4's channels).</summary>
    public const int SemanticWidth = 512;
    /// <summary>N_s.</summary>
    public int NumSemanticTokens => SemanticGrid * SemanticGrid;
}

/// <summary>How AGMD upscales the image embedding 4×.</summary>
public enum AgmdUpscale
{
    /// <summary>SAM's two 2×2 stride-2 transposed convs (their non-overlapping kernels print a checkerboard on the map).</summary>
    TransposedConv,
    /// <summary>AG-VAS (ours): bilinear 2× then a 3×3 conv, twice: no grid pattern.</summary>
    Bilinear,
}

/// <summary>How SPAM encodes the position of the pixel tokens used as keys.</summary>
public enum SpamPositionalEncoding
{
    /// <summary>SAM's random-Fourier dense PE of the pixel grid, added to f_p before Lin_p for the keys (default, no extra parameters).</summary>
    Fourier,
    /// <summary>A learned [C_p, H_p, W_p] table added to f_p before Lin_p for the keys.</summary>
    Learned,
    /// <summary>No positional encoding.</summary>
    None,
}

/// <summary>
/// SPAM (Semantic-Pixel Alignment Module, AGVAS.md §2). <paramref name="SemanticDim"/> is the width of f_s (the projector
/// output = LLM hidden size), <paramref name="PixelDim"/> that of f_p (256 for SAM), <paramref name="Dim"/> the common width D.
/// </summary>
public sealed record SpamConfig(
    int SemanticDim,
    int PixelDim,
    int Dim,
    int NumHeads,
    int PixelGridSize,
    SpamPositionalEncoding PositionalEncoding = SpamPositionalEncoding.Fourier,
    double LayerNormEps = 1e-5);

/// <summary>Token Refiner: Linear(d,d) → ReLU → Linear(d, decoder width), shared by the three anchors unless <paramref name="Shared"/> is false.</summary>
public sealed record TokenRefinerConfig(int InputDim, int OutputDim, bool Shared = true);

/// <summary>
/// AGMD (Anchor-Guided Mask Decoder): SAM's mask decoder with Z0 = [t_nor, t_ano, t_seg, h_nor, h_ano, h_seg].
/// Names follow Hugging Face's <c>SamMaskDecoderConfig</c>; α and the threshold are ours (§2).
/// </summary>
/// <param name="SeedThreshold">
/// AG-VAS (ours): hysteresis on the mask (see <c>Inference.AnomalyMask</c>): a region of P &gt; Threshold is kept only if
/// some pixel of it has P &gt; SeedThreshold. Equal to Threshold (the default) is the paper's M = P &gt; Threshold.
/// </param>
/// <param name="UseNoMaskEmbed">
/// AG-VAS (ours): add SAM's "no mask" dense prompt embedding to f_p as SAM does without a mask prompt, so that a
/// decoder initialised from SAM sees the inputs it was trained on.
/// </param>
public sealed record AgmdConfig(
    int HiddenSize = 256,
    int NumHiddenLayers = 2,
    int NumAttentionHeads = 8,
    int MlpDim = 2048,
    int AttentionDownsampleRate = 2,
    double Alpha = 0.5,
    double Threshold = 0.5,
    double LayerNormEps = 1e-6,
    bool UseNoMaskEmbed = true,
    double SeedThreshold = 0.5,
    AgmdUpscale Upscale = AgmdUpscale.TransposedConv)
{
    /// <summary>A = 3 anchors and as many learnable output tokens, in the order NOR, ANO, SEG.</summary>
    public const int NumAnchors = 3;
    /// <summary>Width of the upscaled embedding and of each hypernetwork output (SAM: 256 / 8 = 32).</summary>
    public int UpscaledDim => HiddenSize / 8;
}

/// <summary>Segmentation loss weights (AGVAS.md §3): λ_bce·BCE + λ_dice·Dice per anchor; Dice smoothed as LISA's.
/// Beyond the paper, λ_hard·HardBCE: BCE averaged over each mask's hardest <see cref="HardPixelFraction"/> of pixels
/// (online hard-pixel mining). Mean BCE barely notices a normal image whose mask is 2 % wrong, while IoU_nor scores it
/// 0; the hardest pixels are exactly those. λ_hard = 0 (the default) is the paper's loss.</summary>
public sealed record SegmentationLossConfig(double BceWeight = 0.5, double DiceWeight = 2.0, double DiceScale = 1000.0, double DiceEps = 1e-6,
    double HardBceWeight = 0.0, double HardPixelFraction = 0.01);

/// <summary>
/// The whole vision and mask side of AG-VAS. The LLM width enters in three places (projector output, SPAM, Token Refiner
/// input): set them together with <see cref="WithLlm"/>. Built and validated by <see cref="VisionBuilder"/>.
/// With <see cref="ResNet"/> set, the frozen ResNet-18 replaces both encoders: <see cref="SemanticEncoder"/> and
/// <see cref="PixelEncoder"/> are then neither built nor checked (only kept so a configuration reads the same way).
/// </summary>
public sealed record VisionConfig(
    SemanticEncoderConfig SemanticEncoder,
    ProjectorConfig Projector,
    PixelEncoderConfig PixelEncoder,
    SpamConfig Spam,
    TokenRefinerConfig TokenRefiner,
    AgmdConfig Agmd,
    SegmentationLossConfig Loss,
    ResNetEncoderConfig? ResNet = null)
{
    /// <summary>Side of the square encoder input that masks and maps are framed in.</summary>
    public int InputSize => ResNet?.ImageSize ?? PixelEncoder.ImageSize;
    /// <summary>Side of the f_p grid.</summary>
    public int PixelGridSize => ResNet?.GridSize ?? PixelEncoder.GridSize;
    /// <summary>Channels of f_p.</summary>
    public int PixelChannels => ResNet?.OutputChannels ?? PixelEncoder.OutputChannels;
    /// <summary>N_s: semantic tokens per image.</summary>
    public int NumSemanticTokens => ResNet?.NumSemanticTokens ?? SemanticEncoder.NumPatches;

    /// <summary>Composes the parts with the LLM width and head count (ours: SPAM width D = LLM hidden size, heads = LLM heads).</summary>
    public static VisionConfig Compose(SemanticEncoderConfig semantic, PixelEncoderConfig pixel, AgmdConfig agmd,
        int llmHiddenSize, int llmNumHeads, SpamPositionalEncoding spamPe = SpamPositionalEncoding.Fourier,
        bool sharedRefiner = true, SegmentationLossConfig? loss = null) =>
        new(semantic,
            new ProjectorConfig(semantic.HiddenSize, llmHiddenSize),
            pixel,
            new SpamConfig(llmHiddenSize, pixel.OutputChannels, llmHiddenSize, llmNumHeads, pixel.GridSize, spamPe),
            new TokenRefinerConfig(llmHiddenSize, agmd.HiddenSize, sharedRefiner),
            agmd,
            loss ?? new SegmentationLossConfig());

    /// <summary>This configuration re-targeted at an LLM of the given hidden size and head count.</summary>
    public VisionConfig WithLlm(int llmHiddenSize, int llmNumHeads) => this with
    {
        Projector = Projector with { OutputSize = llmHiddenSize },
        Spam = Spam with { SemanticDim = llmHiddenSize, Dim = llmHiddenSize, NumHeads = llmNumHeads },
        TokenRefiner = TokenRefiner with { InputDim = llmHiddenSize },
    };
}
