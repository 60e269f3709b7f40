using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AgVas.Modeling;

/// <summary>
/// AG-VAS (ours, #15): the pixel side F_p on the frozen <see cref="ResNet18"/>. A feature-pyramid fusion at stride 4:
/// each stage of <see cref="ResNetEncoderConfig.Stages"/> through its own 1×1 <c>lateral</c> conv to C_p, bilinearly
/// upsampled to the stride-4 grid and summed with the in-image rarity maps (<see cref="Rarity"/>) through their own 1×1
/// <c>rarity_proj</c>; then <c>fuse</c> (3×3 conv → LayerNorm2d → GELU → 1×1 conv → LayerNorm2d, like SAM's neck) gives
/// f_p. (Summed, not concatenated: a 3×3 conv over C_p + 3 = 67 channels returned NaN from finite inputs and weights
/// on this CPU's libtorch at some steps of training: oneDNN pads channel counts that are not multiples of 16, see
/// <see cref="OneDnnSafe"/>.)
/// </summary>
public sealed class ResNetPixelNeck : Module<ResNetStages, Tensor>
{
    private readonly ModuleList<Conv2d> lateral = new();
    private readonly Conv2d? rarity_proj;
    private readonly Conv2d fuse_conv1;
    private readonly LayerNorm2d fuse_norm1;
    private readonly Conv2d fuse_conv2;
    private readonly LayerNorm2d fuse_norm2;
    private readonly ResNetEncoderConfig config;

    public ResNetPixelNeck(ResNetEncoderConfig config) : base(nameof(ResNetPixelNeck))
    {
        int c = config.OutputChannels;
        foreach (var s in config.Stages) lateral.Add(nn.Conv2d(ResNetStages.Channels(s), c, 1));
        if (config.RarityChannels > 0) rarity_proj = nn.Conv2d(config.RarityChannels, c, 1);
        fuse_conv1 = nn.Conv2d(c, c, 3, padding: 1, bias: false);
        fuse_norm1 = new LayerNorm2d(c);
        fuse_conv2 = nn.Conv2d(c, c, 1, bias: false);
        fuse_norm2 = new LayerNorm2d(c);
        this.config = config;
        RegisterComponents();
    }

    /// <param name="stages">the frozen backbone's stages for a [B, 3, S, S] input</param>
    /// <returns>f_p: [B, C_p, S/4, S/4]</returns>
    public override Tensor forward(ResNetStages stages)
    {
        using var scope = NewDisposeScope();
        long h = stages.Stage1.shape[2], w = stages.Stage1.shape[3];
        Tensor? sum = null;
        for (int i = 0; i < config.Stages.Count; i++)
        {
            var l = lateral[i].forward(stages[config.Stages[i]]);                                  // [B, C_p, h_s, w_s]
            if (l.shape[2] != h || l.shape[3] != w)
                l = nn.functional.interpolate(l, size: [h, w], mode: InterpolationMode.Bilinear, align_corners: false); // [B, C_p, S/4, S/4]
            sum = sum is null ? l : sum.Plus(l);
        }
        var x = sum!;                                                                               // [B, C_p, S/4, S/4]
        if (rarity_proj is not null)
        {
            Tensor r;
            using (no_grad()) r = Rarity(stages.Stage2, stages.Stage3, config.RarityChannels);      // [B, R, S/8, S/8]
            r = nn.functional.interpolate(r, size: [h, w], mode: InterpolationMode.Bilinear, align_corners: false); // [B, R, S/4, S/4]
            x = x.Plus(rarity_proj.forward(r));                                                     // [B, C_p, S/4, S/4]
        }
        var y = nn.functional.gelu(fuse_norm1.forward(fuse_conv1.forward(x)));                      // [B, C_p, S/4, S/4]
        return fuse_norm2.forward(fuse_conv2.forward(y)).MoveToOuterDisposeScope();                 // [B, C_p, S/4, S/4]
    }

    /// <summary>
    /// In-image rarity at stride 8: the stage-2 features and the upsampled stage-3 features, each L2-normalised over
    /// channels and concatenated (scaled by 1/√2, so unit length), give one descriptor per patch; a patch's rarity is
    /// its Euclidean distance to its k-th nearest other patch of the same image, for k = N/100, N/20, N/4 (the first
    /// <paramref name="channels"/> of them; at least 1). Normal patches have many look-alikes in the image, a defect few.
    /// </summary>
    /// <param name="stage2">[B, 128, h, w]</param>
    /// <param name="stage3">[B, 256, h/2, w/2]</param>
    /// <returns>[B, channels, h, w], distances in [0, 2]</returns>
    public static Tensor Rarity(Tensor stage2, Tensor stage3, int channels)
    {
        using var scope = NewDisposeScope();
        long b = stage2.shape[0], h = stage2.shape[2], w = stage2.shape[3], n = h * w;
        using Scalar invSqrt2 = 1 / Math.Sqrt(2), two = 2, zero = 0, inf = double.PositiveInfinity;
        var s3 = nn.functional.interpolate(stage3, size: [h, w], mode: InterpolationMode.Bilinear, align_corners: false); // [B, 256, h, w]
        var f = cat([nn.functional.normalize(stage2, dim: 1), nn.functional.normalize(s3, dim: 1)], dim: 1) * invSqrt2; // [B, 384, h, w]
        f = f.flatten(2).transpose(1, 2);                                                           // [B, N, 384]
        long[] ks = [.. new[] { n / 100, n / 20, n / 4 }.Take(channels).Select(k => Math.Max(1, k))];
        long kMax = ks.Max();
        var perImage = new Tensor[b];
        for (int i = 0; i < b; i++)
        {
            // −cos between every two patches: the k-th nearest in 2 − 2·cos is the k-th smallest −cos. A 2-D mm per image
            // runs at about twice libtorch's CPU rate of the batched matmul of a transposed view (`bench rarity`).
            var fi = f[i];                                                                          // [N, 384]
            var g = fi.mm(fi.t()).neg_();                                                           // [N, N]
            g.diagonal().fill_(inf);                                                                // self excluded
            // One unsorted topk of the k_max nearest (on libtorch's CPU 2–2.5× faster than a kthvalue per k over all N),
            // then each k-th within those k_max: the k_max-th is their maximum.
            var (nearest, _) = g.topk((int)kMax, dim: 1, largest: false, sorted: false);            // [N, k_max] unordered
            perImage[i] = stack(ks.Select(k => k == kMax ? nearest.amax(1) : nearest.kthvalue(k, dim: 1).values).ToArray()); // [R, N]
        }
        var picked = stack(perImage).mul_(two).add_(two).clamp_min_(zero).sqrt_();               // [B, R, N] distances √(2 − 2·cos)
        return picked.view(b, ks.Length, h, w).MoveToOuterDisposeScope();                           // [B, R, h, w]
    }

    public static long ParameterCount(ResNetEncoderConfig c)
    {
        long o = c.OutputChannels;
        long total = c.Stages.Sum(s => ResNetStages.Channels(s) * o + o);
        if (c.RarityChannels > 0) total += c.RarityChannels * o + o;
        return total + o * o * 9 + Count.LayerNorm(o) + o * o + Count.LayerNorm(o);
    }
}
