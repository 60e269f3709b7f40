namespace AgVas.Modeling;

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
