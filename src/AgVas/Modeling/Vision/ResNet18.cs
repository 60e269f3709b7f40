using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AgVas.Modeling;

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
/// <param name="Scales">Inference only (no weight depends on it): the input sides an image is run at, each a multiple of 32
/// and one of them <see cref="ImageSize"/>; the maps are fused by their pixelwise maximum and the mask drawn from the fused
/// map, the text comes from the run at <see cref="ImageSize"/> (docs/design.md §6). Default: <see cref="ImageSize"/> only.</param>
/// <param name="Mirror">Inference only: also run the image mirrored left to right (at every scale) and average the two
/// fused maps, the mirrored one flipped back, before the mask is drawn (docs/design.md §6). Both run in one batch, about 1.75× the time of one; the
/// text is the unmirrored run's.</param>
public sealed record ResNetEncoderConfig(
    int ImageSize = 256,
    IReadOnlyList<int>? PixelStages = null,
    int OutputChannels = 64,
    int SemanticGrid = 8,
    int RarityChannels = 3,
    IReadOnlyList<int>? Scales = null,
    bool Mirror = false)
{
    /// <summary>The input sides run at inference, <see cref="ImageSize"/> first.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<int> InferenceSizes => [ImageSize, .. (Scales ?? []).Where(s => s != ImageSize)];

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

/// <summary>The four stage outputs of <see cref="ResNet18"/>. Owns its tensors.</summary>
/// <param name="Stage1">[B, 64, H/4, W/4] (layer1, stride 4; sizes round up)</param>
/// <param name="Stage2">[B, 128, H/8, W/8] (layer2, stride 8)</param>
/// <param name="Stage3">[B, 256, H/16, W/16] (layer3, stride 16)</param>
/// <param name="Stage4">[B, 512, H/32, W/32] (layer4, stride 32)</param>
public sealed record ResNetStages(Tensor Stage1, Tensor Stage2, Tensor Stage3, Tensor Stage4) : IDisposable
{
    public Tensor this[int stage] => stage switch
    {
        1 => Stage1, 2 => Stage2, 3 => Stage3, 4 => Stage4,
        _ => throw new ArgumentOutOfRangeException(nameof(stage), $"ResNet-18 has stages 1..4, not {stage}"),
    };

    /// <summary>Channels of each stage (index 1..4).</summary>
    public static int Channels(int stage) => 64 << (stage - 1);

    public ResNetStages MoveToOuterDisposeScope()
    {
        foreach (var t in new[] { Stage1, Stage2, Stage3, Stage4 }) t.MoveToOuterDisposeScope();
        return this;
    }

    public void Dispose()
    {
        foreach (var t in new[] { Stage1, Stage2, Stage3, Stage4 }) t.Dispose();
    }
}

/// <summary>
/// ImageNet ResNet-18 (He et al. 2016) up to its last residual stage, as the CNTK 2.6 export shipped in NuGet's
/// <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> defines it (see <see cref="Checkpoints.ResNet18Onnx"/>): conv1 7×7/2,
/// max-pool 3×3/2, basic blocks [2, 2, 2, 3] (this export's layer4 has a third block: 22 convs, not torchvision's 20),
/// the first block of layers 2–4 strided in its 3×3 conv with a 1×1/2 projection shortcut. BatchNorm (eval, eps 1e-5)
/// is folded into each conv's weight and bias at load time, so every conv here has a bias.
/// <para>Padding: the graph stores CNTK's auto-padding resolved for 224² (conv1 top/left 3, bottom/right 2; stride-2
/// ops top/left 1, bottom/right 0), which at any even size equals the symmetric pads used here (conv1 3, max-pool 1,
/// 3×3 convs 1) and at other sizes would make the residual branches disagree in size. So the symmetric pads it is:
/// fully convolutional, any input size ≥ 32 works, stage s has ⌈size / 2^(s+1)⌉ cells.</para> Input: BGR minus the per-channel ImageNet mean on the 0–255 scale (<see cref="ResNetPreprocess"/>).
/// Names follow torchvision (<c>conv1</c>, <c>layer{1..4}.{0,1}.conv{1,2}</c>, <c>layer{2..4}.0.downsample</c>).
/// Frozen: it never trains and is not part of a model's state_dict.
/// </summary>
public sealed class ResNet18 : Module<Tensor, ResNetStages>
{
    private readonly Conv2d conv1;
    private readonly ModuleList<BasicBlock> layer1 = new();
    private readonly ModuleList<BasicBlock> layer2 = new();
    private readonly ModuleList<BasicBlock> layer3 = new();
    private readonly ModuleList<BasicBlock> layer4 = new();

    /// <summary>Builds the layers with zero weights; <see cref="Checkpoints.ResNet18Onnx"/> fills them.</summary>
    public ResNet18() : base(nameof(ResNet18))
    {
        conv1 = nn.Conv2d(3, 64, 7, stride: 2, padding: 3, bias: true);
        int inC = 64;
        var layers = Layers;
        for (int s = 0; s < 4; s++)
        {
            int outC = 64 << s;
            layers[s].Add(new BasicBlock(inC, outC, s == 0 ? 1 : 2));
            for (int b = 1; b < BlocksPerStage[s]; b++) layers[s].Add(new BasicBlock(outC, outC, 1));
            inC = outC;
        }
        RegisterComponents();
        foreach (var p in parameters()) p.requires_grad = false;
        eval();
    }

    /// <summary>layer1..layer4.</summary>
    private ModuleList<BasicBlock>[] Layers => [layer1, layer2, layer3, layer4];

    /// <summary>Basic blocks of layer1..layer4 in this export.</summary>
    public static readonly int[] BlocksPerStage = [2, 2, 2, 3];

    /// <summary>Conv modules in the order of the ONNX graph's Conv nodes (a strided block's shortcut comes first).</summary>
    internal IReadOnlyList<(string Name, Conv2d Conv)> ConvsInGraphOrder()
    {
        var list = new List<(string, Conv2d)> { ("conv1", conv1) };
        var layers = Layers;
        for (int s = 0; s < 4; s++)
            for (int b = 0; b < BlocksPerStage[s]; b++)
            {
                var block = layers[s][b];
                string prefix = $"layer{s + 1}.{b}.";
                if (block.Downsample is { } d) list.Add((prefix + "downsample", d));
                list.Add((prefix + "conv1", block.Conv1));
                list.Add((prefix + "conv2", block.Conv2));
            }
        return list;
    }

    /// <param name="x">[B, 3, H, W] preprocessed (BGR − mean, 0–255 scale)</param>
    /// <returns>the four stage outputs (strides 4, 8, 16, 32)</returns>
    public override ResNetStages forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = conv1.forward(x).relu_();                                                   // [B, 64, H/2, W/2]
        h = nn.functional.max_pool2d(h, 3, 2, 1);                                           // [B, 64, H/4, W/4]
        var stages = new Tensor[4];
        var layers = Layers;
        for (int s = 0; s < 4; s++)
        {
            foreach (var block in layers[s]) h = block.forward(h);                           // [B, 64·2^s, H/2^(s+2), W/2^(s+2)]
            stages[s] = h;
        }
        return new ResNetStages(stages[0], stages[1], stages[2], stages[3]).MoveToOuterDisposeScope();
    }

    /// <summary>Parameters after BN folding: every conv's weight and bias (one bias per channel where BN had a scale and a shift).</summary>
    public static long ParameterCount
    {
        get
        {
            long total = 64 * 3 * 49 + 64, inC = 64;
            for (int s = 0; s < 4; s++)
            {
                long outC = 64 << s;
                total += outC * inC * 9 + outC + outC * outC * 9 + outC;          // block 0
                if (s > 0) total += outC * inC + outC;                           // its shortcut
                total += (BlocksPerStage[s] - 1) * 2 * (outC * outC * 9 + outC); // blocks 1..
                inC = outC;
            }
            return total;
        }
    }

    /// <summary>Multiply-accumulates ×2 of the forward pass at an H×W input (convolutions only).</summary>
    public static double Flops(int height, int width)
    {
        double total = 0;
        int h = Out(height, 7, 2, 6), w = Out(width, 7, 2, 6);
        total += 2.0 * h * w * 64 * 3 * 49;
        h = Out(h, 3, 2, 2); w = Out(w, 3, 2, 2);
        int inC = 64;
        for (int s = 0; s < 4; s++)
        {
            int outC = 64 << s;
            for (int b = 0; b < BlocksPerStage[s]; b++)
            {
                int stride = s > 0 && b == 0 ? 2 : 1;
                int oh = stride == 2 ? Out(h, 3, 2, 2) : h, ow = stride == 2 ? Out(w, 3, 2, 2) : w;
                total += 2.0 * oh * ow * outC * inC * 9 + 2.0 * oh * ow * outC * outC * 9;
                if (stride == 2) total += 2.0 * oh * ow * outC * inC;
                h = oh; w = ow; inC = outC;
            }
        }
        return total;

        static int Out(int size, int kernel, int stride, int pad) => (size + pad - kernel) / stride + 1;
    }
}

/// <summary>Basic residual block: relu(conv2(relu(conv1(x))) + shortcut(x)), BN folded into the convs.</summary>
internal sealed class BasicBlock : Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly Conv2d? downsample;

    public BasicBlock(int inChannels, int outChannels, int stride) : base(nameof(BasicBlock))
    {
        conv1 = nn.Conv2d(inChannels, outChannels, 3, stride: stride, padding: 1, bias: true);
        conv2 = nn.Conv2d(outChannels, outChannels, 3, padding: 1, bias: true);
        if (stride != 1) downsample = nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: true);
        RegisterComponents();
    }

    internal Conv2d Conv1 => conv1;
    internal Conv2d Conv2 => conv2;
    internal Conv2d? Downsample => downsample;

    /// <param name="x">[B, C_in, H, W]</param>
    /// <returns>[B, C_out, H/stride, W/stride]</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = conv2.forward(conv1.forward(x).relu_());                                    // [B, C_out, H', W']
        var shortcut = downsample is null ? x : downsample.forward(x);                      // [B, C_out, H', W']
        return y.PlusInPlace(shortcut).relu_().MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The package's <c>ResNetPreprocess.onnx</c> as tensor ops: RGB (0–255) → BGR minus the graph's 224×224 mean image
/// (no division by a standard deviation). At another input size the mean image is resized bilinearly to it (it is
/// smooth: per-channel means B 103.06, G 115.90, R 123.15, spatial spread a few units).
/// </summary>
public sealed class ResNetPreprocess : IDisposable
{
    private readonly Tensor meanImage;

    /// <param name="meanImageBgr">[1, 3, h, w] mean image in B, G, R order (0–255 scale)</param>
    public ResNetPreprocess(Tensor meanImageBgr)
    {
        if (meanImageBgr.ndim != 4 || meanImageBgr.shape[0] != 1 || meanImageBgr.shape[1] != 3)
            throw new ArgumentException($"mean image must be [1, 3, h, w], got [{string.Join(", ", meanImageBgr.shape)}]");
        meanImage = meanImageBgr.detach().clone().DetachFromDisposeScope();
    }

    /// <summary>The mean image [1, 3, h, w] (BGR).</summary>
    public Tensor MeanImage => meanImage;

    /// <param name="rgb">[B, 3, H, W] RGB on the 0–255 scale</param>
    /// <returns>[B, 3, H, W] BGR − mean image (resized to H×W)</returns>
    public Tensor Apply(Tensor rgb)
    {
        using var scope = NewDisposeScope();
        long h = rgb.shape[2], w = rgb.shape[3];
        var mean = meanImage;                                                               // [1, 3, h0, w0]
        if (mean.shape[2] != h || mean.shape[3] != w)
            mean = nn.functional.interpolate(mean, size: [h, w], mode: InterpolationMode.Bilinear, align_corners: false); // [1, 3, H, W]
        return rgb.flip(1).Minus(mean.to(rgb.device)).MoveToOuterDisposeScope();           // [B, 3, H, W]
    }

    public void Dispose() => meanImage.Dispose();
}
