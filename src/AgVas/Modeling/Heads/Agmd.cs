using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AgVas.Modeling;

/// <summary>How AGMD upscales the image embedding 4×.</summary>
public enum AgmdUpscale
{
    /// <summary>SAM's two 2×2 stride-2 transposed convs (their non-overlapping kernels print a checkerboard on the map).</summary>
    TransposedConv,
    /// <summary>AG-VAS (ours): bilinear 2× then a 3×3 conv, twice: no grid pattern.</summary>
    Bilinear,
}

/// <summary>
/// AGMD (Anchor-Guided Mask Decoder): SAM's mask decoder with Z0 = [t_nor, t_ano, t_seg, h_nor, h_ano, h_seg].
/// Names follow Hugging Face's <c>SamMaskDecoderConfig</c>; α and the threshold are ours (docs/design.md §5–6).
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
    /// <summary>Width of the upscaled embedding and of each hypernetwork output (SAM: 256 / 8 = 32).</summary>
    public int UpscaledDim => HiddenSize / 8;
}

/// <summary>
/// AGMD, the Anchor-Guided Mask Decoder (docs/design.md §5): SAM's mask decoder driven by
/// Z0 = [t_nor, t_ano, t_seg, h_nor, h_ano, h_seg] (three learnable output tokens + the three refined anchors).
/// Z0 and f_p (+ its random-Fourier PE) go through the two-way transformer; f_p is upscaled 4× (two transposed convs
/// with LayerNorm2d and GELU) and each output token t'_c, through its own 3-layer hypernetwork MLP, gives a per-pixel
/// logit map t'_c · f_p'. P_seg = sigmoid(seg logit); [P_nor, P_ano] = softmax over the (nor, ano) logits;
/// P = α·P_seg + (1−α)·P_ano; M = P &gt; threshold.
/// <para>
/// Resolution: for SAM at 1024 px, f_p is 64×64 and the maps are 256×256, i.e. the 1024² padded input at 1/4 scale.
/// They are not the image size: <see cref="SamImageTransform.PostProcess"/> upsamples them to the padded input, crops
/// the valid region and resizes to the original image (SAM's post-processing).
/// </para>
/// Parameter names follow HF's <c>SamMaskDecoder</c> where SAM has the part (<c>transformer.*</c>, <c>upscale_conv1</c>,
/// <c>upscale_layer_norm</c>, <c>upscale_conv2</c>, <c>output_hypernetworks_mlps.{i}.{proj_in,layers.0,proj_out}</c>);
/// ours are <c>output_tokens</c>, <c>pe_layer</c> (from SAM's <c>shared_image_embedding</c>) and <c>no_mask_embed</c>
/// (from SAM's <c>prompt_encoder.no_mask_embed</c>).
/// </summary>
public sealed class Agmd : Module<Tensor, Tensor, AgmdOutput>
{
    private readonly Embedding output_tokens;
    private readonly Embedding? no_mask_embed;
    private readonly PositionEmbeddingRandom pe_layer;
    private readonly TwoWayTransformer transformer;
    private readonly Module<Tensor, Tensor> upscale_conv1;
    private readonly LayerNorm2d upscale_layer_norm;
    private readonly Module<Tensor, Tensor> upscale_conv2;
    private readonly ModuleList<HypernetworkMlp> output_hypernetworks_mlps = new();
    private readonly AgmdConfig config;

    public Agmd(AgmdConfig config) : base(nameof(Agmd))
    {
        int d = config.HiddenSize;
        output_tokens = nn.Embedding(Anchors.Count, d);
        if (config.UseNoMaskEmbed) no_mask_embed = nn.Embedding(1, d);
        pe_layer = new PositionEmbeddingRandom(d / 2);
        transformer = new TwoWayTransformer(config);
        if (config.Upscale == AgmdUpscale.Bilinear)
        {
            upscale_conv1 = nn.Conv2d(d, d / 4, 3, padding: 1);
            upscale_conv2 = nn.Conv2d(d / 4, d / 8, 3, padding: 1);
        }
        else
        {
            upscale_conv1 = nn.ConvTranspose2d(d, d / 4, 2, stride: 2);
            upscale_conv2 = nn.ConvTranspose2d(d / 4, d / 8, 2, stride: 2);
        }
        upscale_layer_norm = new LayerNorm2d(d / 4);
        for (int i = 0; i < Anchors.Count; i++) output_hypernetworks_mlps.Add(new HypernetworkMlp(d, d, d / 8, 3));
        this.config = config;
        RegisterComponents();
    }

    /// <param name="pixelEmbedding">f_p: [B, C, H, W] (C = 256, H = W = 64 for SAM)</param>
    /// <param name="anchors">[h_nor, h_ano, h_seg]: [B, A, C] from the Token Refiner</param>
    /// <returns>logits [B, A, 4H, 4W] and the derived probability maps and mask</returns>
    public override AgmdOutput forward(Tensor pixelEmbedding, Tensor anchors)
    {
        using var scope = NewDisposeScope();
        long b = pixelEmbedding.shape[0], c = pixelEmbedding.shape[1], h = pixelEmbedding.shape[2], w = pixelEmbedding.shape[3];
        var t = output_tokens.weight!.unsqueeze(0).expand(b, -1, -1);              // [B, A, C]
        var z0 = cat([t, anchors], dim: 1);                                         // [B, 2A, C]
        var src = pixelEmbedding;                                                   // [B, C, H, W]
        if (no_mask_embed is not null) src = src.Plus(no_mask_embed.weight!.view(1, c, 1, 1)); // [B, C, H, W]
        var pe = pe_layer.Grid(h, w).unsqueeze(0).expand(b, -1, -1, -1);            // [B, C, H, W]
        var (hs, keys) = transformer.forward(src, pe, z0);                          // [B, 2A, C], [B, HW, C]
        var img = keys.transpose(1, 2).reshape(b, c, h, w);                         // [B, C, H, W]
        var up = nn.functional.gelu(upscale_layer_norm.forward(Upscale(upscale_conv1, img))); // [B, C/4, 2H, 2W]
        up = nn.functional.gelu(Upscale(upscale_conv2, up));                        // [B, C/8, 4H, 4W]
        var hyper = stack(Enumerable.Range(0, Anchors.Count)
            .Select(i => output_hypernetworks_mlps[i].forward(hs[.., i, ..])), dim: 1); // [B, A, C/8]
        long uh = up.shape[2], uw = up.shape[3];
        var logits = hyper.matmul(up.view(b, c / 8, uh * uw)).view(b, Anchors.Count, uh, uw); // [B, A, 4H, 4W]
        return AgmdOutput.FromLogits(logits, config.Alpha, config.Threshold).MoveToOuterDisposeScope();
    }

    /// <summary>One 2× step: bilinear 2× then the 3×3 conv (<see cref="AgmdUpscale.Bilinear"/>; its 8-channel output
    /// needs <see cref="OneDnnSafe"/>), or the transposed conv.</summary>
    /// <param name="x">[B, C, H, W]</param>
    /// <returns>[B, C', 2H, 2W]</returns>
    private Tensor Upscale(Module<Tensor, Tensor> conv, Tensor x) => config.Upscale == AgmdUpscale.Bilinear
        ? OneDnnSafe.Conv2d((Conv2d)conv,
            nn.functional.interpolate(x, scale_factor: [2.0, 2.0], mode: InterpolationMode.Bilinear, align_corners: false))
        : conv.forward(x);

    public static long ParameterCount(AgmdConfig c)
    {
        long d = c.HiddenSize, k = c.Upscale == AgmdUpscale.Bilinear ? 9 : 4;
        long total = Anchors.Count * d + (c.UseNoMaskEmbed ? d : 0) + TwoWayTransformer.ParameterCount(c);
        total += d * (d / 4) * k + d / 4 + Count.LayerNorm(d / 4) + (d / 4) * (d / 8) * k + d / 8;
        return total + Anchors.Count * (Count.Linear(d, d) + Count.Linear(d, d) + Count.Linear(d, d / 8));
    }
}

/// <summary>SAM's <c>MaskDecoder</c> MLP: <c>proj_in</c>, <c>layers.{0..n-3}</c>, <c>proj_out</c>, ReLU between.</summary>
internal sealed class HypernetworkMlp : Module<Tensor, Tensor>
{
    private readonly Linear proj_in;
    private readonly ModuleList<Linear> layers = new();
    private readonly Linear proj_out;

    public HypernetworkMlp(int inputDim, int hiddenDim, int outputDim, int numLayers) : base(nameof(HypernetworkMlp))
    {
        proj_in = nn.Linear(inputDim, hiddenDim);
        for (int i = 0; i < numLayers - 2; i++) layers.Add(nn.Linear(hiddenDim, hiddenDim));
        proj_out = nn.Linear(hiddenDim, outputDim);
        RegisterComponents();
    }

    /// <param name="x">[B, C]</param>
    /// <returns>[B, C_out]</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = nn.functional.relu(proj_in.forward(x));
        foreach (var layer in layers) h = nn.functional.relu(layer.forward(h));
        return proj_out.forward(h).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// What AGMD returns, all at the decoder's low resolution: <see cref="Logits"/> [B, A, h, w] in the order NOR, ANO, SEG;
/// the probabilities <see cref="PSeg"/> = sigmoid, <see cref="PNor"/>/<see cref="PAno"/> = 2-way softmax, the fused
/// map <see cref="P"/> and the binary <see cref="Mask"/> (all [B, h, w]). Owns its tensors.
/// </summary>
public sealed class AgmdOutput : IDisposable
{
    public Tensor Logits { get; }
    public Tensor PSeg { get; }
    public Tensor PNor { get; }
    public Tensor PAno { get; }
    public Tensor P { get; }
    public Tensor Mask { get; }

    private AgmdOutput(Tensor logits, Tensor pSeg, Tensor pNor, Tensor pAno, Tensor p, Tensor mask) =>
        (Logits, PSeg, PNor, PAno, P, Mask) = (logits, pSeg, pNor, pAno, p, mask);

    /// <summary>Derives the maps from logits [B, A, h, w] (NOR, ANO, SEG).</summary>
    public static AgmdOutput FromLogits(Tensor logits, double alpha, double threshold)
    {
        using Scalar t = threshold;
        var pSeg = logits[.., Anchors.SegIndex].sigmoid();                                  // [B, h, w]
        var relative = logits[.., Anchors.NorIndex..(Anchors.AnoIndex + 1)].softmax(1);             // [B, 2, h, w]
        var pNor = relative[.., 0];                                                 // [B, h, w]
        var pAno = relative[.., 1];                                                 // [B, h, w]
        var p = Fuse(pSeg, pAno, alpha);                                            // [B, h, w]
        return new AgmdOutput(logits, pSeg, pNor, pAno, p, p.gt(t));
    }

    /// <summary>P = α·P_seg + (1−α)·P_ano (any matching shapes).</summary>
    public static Tensor Fuse(Tensor pSeg, Tensor pAno, double alpha)
    {
        using Scalar a = alpha, rest = 1 - alpha;
        return (pSeg * a).Plus(pAno * rest);
    }

    internal AgmdOutput MoveToOuterDisposeScope()
    {
        foreach (var t in All) t.MoveToOuterDisposeScope();
        return this;
    }

    private Tensor[] All => [Logits, PSeg, PNor, PAno, P, Mask];

    public void Dispose()
    {
        foreach (var t in All) t.Dispose();
    }
}
