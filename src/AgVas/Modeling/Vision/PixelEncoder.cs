using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AgVas.Modeling;

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
/// Pixel encoder F_p (docs/design.md §3.2): SAM's ViT image encoder. Patch embedding (conv, stride 16), absolute position
/// embedding, pre-norm blocks with windowed or global attention and decomposed relative position bias, and a neck to
/// <see cref="PixelEncoderConfig.OutputChannels"/> (conv1x1 → LayerNorm2d → conv3x3 → LayerNorm2d). Parameter names
/// are those of HF's <c>SamVisionEncoder</c> (checkpoint prefix <c>vision_encoder.</c>).
/// </summary>
public sealed class PixelEncoder : Module<Tensor, Tensor>
{
    private readonly SamPatchEmbed patch_embed;
    private readonly Parameter? pos_embed;
    private readonly ModuleList<SamVisionLayer> layers = new();
    private readonly SamNeck neck;

    public PixelEncoder(PixelEncoderConfig config) : base(nameof(PixelEncoder))
    {
        patch_embed = new SamPatchEmbed(config);
        int g = config.GridSize;
        if (config.UseAbsPos) pos_embed = new Parameter(zeros(1, g, g, config.HiddenSize));
        for (int i = 0; i < config.NumHiddenLayers; i++)
            layers.Add(new SamVisionLayer(config, config.IsGlobal(i) ? 0 : config.WindowSize));
        neck = new SamNeck(config);
        RegisterComponents();
    }

    /// <param name="pixelValues">[B, 3, S, S] pre-processed by <see cref="SamImageTransform"/> (S = 1024 for SAM)</param>
    /// <returns>f_p: [B, C_p, S/16, S/16] (C_p = 256: [B, 256, 64, 64] for SAM)</returns>
    public override Tensor forward(Tensor pixelValues)
    {
        using var scope = NewDisposeScope();
        var h = patch_embed.forward(pixelValues);              // [B, H_p, W_p, C]
        if (pos_embed is not null) h = h.Plus(pos_embed);      // [B, H_p, W_p, C]
        foreach (var layer in layers) h = layer.forward(h);    // [B, H_p, W_p, C]
        var f = neck.forward(h.permute(0, 3, 1, 2));           // [B, C_p, H_p, W_p]
        return f.MoveToOuterDisposeScope();
    }

    public static long ParameterCount(PixelEncoderConfig c)
    {
        long d = c.HiddenSize, g = c.GridSize, headDim = d / c.NumAttentionHeads;
        long total = d * c.NumChannels * c.PatchSize * c.PatchSize + d;
        if (c.UseAbsPos) total += g * g * d;
        for (int i = 0; i < c.NumHiddenLayers; i++)
        {
            total += 2 * Count.LayerNorm(d) + Count.Linear(d, 3 * d, c.QkvBias) + Count.Linear(d, d) + MlpBlock.ParameterCount(d, c.MlpDim);
            long side = c.IsGlobal(i) ? g : c.WindowSize;
            if (c.UseRelPos) total += 2 * (2 * side - 1) * headDim;
        }
        long o = c.OutputChannels;
        return total + d * o + Count.LayerNorm(o) + o * o * 9 + Count.LayerNorm(o);
    }
}

/// <summary>Patch embedding: conv with kernel = stride = patch size, output channels-last.</summary>
internal sealed class SamPatchEmbed : Module<Tensor, Tensor>
{
    private readonly Conv2d projection;

    public SamPatchEmbed(PixelEncoderConfig c) : base(nameof(SamPatchEmbed))
    {
        projection = nn.Conv2d(c.NumChannels, c.HiddenSize, c.PatchSize, stride: c.PatchSize);
        RegisterComponents();
    }

    /// <param name="x">[B, 3, S, S]</param>
    /// <returns>[B, S/p, S/p, C]</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return projection.forward(x).permute(0, 2, 3, 1).MoveToOuterDisposeScope(); // [B, H_p, W_p, C]
    }
}

/// <summary>Pre-norm ViT block with windowed (window_size &gt; 0) or global (0) attention.</summary>
internal sealed class SamVisionLayer : Module<Tensor, Tensor>
{
    private readonly LayerNorm layer_norm1;
    private readonly SamVisionAttention attn;
    private readonly LayerNorm layer_norm2;
    private readonly MlpBlock mlp;
    private readonly int windowSize;

    public SamVisionLayer(PixelEncoderConfig c, int windowSize) : base(nameof(SamVisionLayer))
    {
        layer_norm1 = nn.LayerNorm(c.HiddenSize, c.LayerNormEps);
        attn = new SamVisionAttention(c, windowSize == 0 ? c.GridSize : windowSize);
        layer_norm2 = nn.LayerNorm(c.HiddenSize, c.LayerNormEps);
        mlp = new MlpBlock(c.HiddenSize, c.MlpDim, c.HiddenAct);
        this.windowSize = windowSize;
        RegisterComponents();
    }

    /// <param name="x">[B, H, W, C]</param>
    /// <returns>[B, H, W, C]</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long h = x.shape[1], w = x.shape[2];
        var y = layer_norm1.forward(x);                                   // [B, H, W, C]
        if (windowSize > 0)
        {
            var (windows, hp, wp) = WindowPartition(y, windowSize);       // [B·nW, ws, ws, C]
            y = WindowUnpartition(attn.forward(windows), windowSize, hp, wp, h, w); // [B, H, W, C]
        }
        else
        {
            y = attn.forward(y);                                          // [B, H, W, C]
        }
        var r = x.Plus(y);                                                // [B, H, W, C]
        r = r.Plus(mlp.forward(layer_norm2.forward(r)));                  // [B, H, W, C]
        return r.MoveToOuterDisposeScope();
    }

    /// <summary>Zero-pads H, W to multiples of <paramref name="ws"/> and cuts non-overlapping windows.</summary>
    internal static (Tensor Windows, long Hp, long Wp) WindowPartition(Tensor x, int ws)
    {
        long b = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3];
        long padH = (ws - h % ws) % ws, padW = (ws - w % ws) % ws;
        if (padH > 0 || padW > 0) x = nn.functional.pad(x, [0, 0, 0, padW, 0, padH]); // [B, Hp, Wp, C]
        long hp = h + padH, wp = w + padW;
        var v = x.view(b, hp / ws, ws, wp / ws, ws, c);                   // [B, Hp/ws, ws, Wp/ws, ws, C]
        var windows = v.permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, ws, ws, c); // [B·nW, ws, ws, C]
        return (windows, hp, wp);
    }

    /// <summary>Inverse of <see cref="WindowPartition"/>, dropping the padding.</summary>
    internal static Tensor WindowUnpartition(Tensor windows, int ws, long hp, long wp, long h, long w)
    {
        long b = windows.shape[0] / (hp * wp / ws / ws);
        var x = windows.view(b, hp / ws, wp / ws, ws, ws, -1);            // [B, Hp/ws, Wp/ws, ws, ws, C]
        x = x.permute(0, 1, 3, 2, 4, 5).contiguous().view(b, hp, wp, -1); // [B, Hp, Wp, C]
        if (hp > h || wp > w) x = x[.., ..(int)h, ..(int)w, ..].contiguous(); // [B, H, W, C]
        return x;
    }
}

/// <summary>
/// Multi-head attention over a [B, H, W, C] grid with fused qkv and MViTv2's decomposed relative position bias:
/// logits(q_ij, k_kl) = q·k/√d + q_ij·R_h[i−k] + q_ij·R_w[j−l], where R_h, R_w are learned tables of 2·side−1 rows.
/// </summary>
internal sealed class SamVisionAttention : Module<Tensor, Tensor>
{
    private readonly Linear qkv;
    private readonly Linear proj;
    private readonly Parameter? rel_pos_h;
    private readonly Parameter? rel_pos_w;
    private readonly int heads;
    private readonly int queryChunk;

    /// <param name="side">Side of the attended grid: the window size, or the full grid for global attention.</param>
    public SamVisionAttention(PixelEncoderConfig c, int side) : base(nameof(SamVisionAttention))
    {
        qkv = nn.Linear(c.HiddenSize, 3L * c.HiddenSize, hasBias: c.QkvBias);
        proj = nn.Linear(c.HiddenSize, c.HiddenSize);
        heads = c.NumAttentionHeads;
        queryChunk = c.AttentionQueryChunk;
        if (c.UseRelPos)
        {
            long headDim = c.HiddenSize / c.NumAttentionHeads;
            rel_pos_h = new Parameter(zeros(2 * side - 1, headDim));
            rel_pos_w = new Parameter(zeros(2 * side - 1, headDim));
        }
        RegisterComponents();
    }

    /// <param name="x">[B, H, W, C] (B counts windows for windowed attention)</param>
    /// <returns>[B, H, W, C]</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3], hd = c / heads;
        var t = qkv.forward(x).reshape(b, h * w, 3, heads, hd).permute(2, 0, 3, 1, 4); // [3, B, heads, HW, hd]
        var q = t[0];                                                                     // [B, heads, HW, hd]
        var k = t[1];                                                                     // [B, heads, HW, hd]
        var v = t[2];                                                                     // [B, heads, HW, hd]
        if (rel_pos_h is null || rel_pos_w is null)
        {
            var plain = nn.functional.scaled_dot_product_attention(q, k, v);              // [B, heads, HW, hd]
            return proj.forward(plain.transpose(1, 2).reshape(b, h, w, c)).MoveToOuterDisposeScope(); // [B, H, W, C]
        }
        var rh = RelativeTable(h, h, rel_pos_h);                                          // [H, H, hd]
        var rw = RelativeTable(w, w, rel_pos_w);                                          // [W, W, hd]
        var rq = q.reshape(b * heads, h, w, hd);                                          // [B·heads, H, W, hd]
        var relH = einsum("bhwc,hkc->bhwk", rq, rh);                                      // [B·heads, H, W, H]
        var relW = einsum("bhwc,wkc->bhwk", rq, rw);                                      // [B·heads, H, W, W]
        // AG-VAS: the [B, heads, HW, HW] bias is built and used a band of query rows at a time (queryChunk tokens),
        // which bounds the global layers' peak memory (SAM at 1024²: 12 × 4096² floats = 805 MB per tensor otherwise).
        long rows = queryChunk > 0 ? Math.Max(1, Math.Min(h, queryChunk / w)) : h;
        var parts = new List<Tensor>();
        for (long y0 = 0; y0 < h; y0 += rows)
        {
            using var band = NewDisposeScope();
            long y1 = Math.Min(h, y0 + rows);
            var bias = relH.narrow(1, y0, y1 - y0).unsqueeze(-1).Plus(relW.narrow(1, y0, y1 - y0).unsqueeze(-2)).reshape(b, heads, (y1 - y0) * w, h * w); // [B, heads, rows·W, HW]
            var qBand = q.narrow(2, y0 * w, (y1 - y0) * w);                                // [B, heads, rows·W, hd]
            parts.Add(nn.functional.scaled_dot_product_attention(qBand, k, v, bias).MoveToOuterDisposeScope()); // [B, heads, rows·W, hd]
        }
        var o = parts.Count == 1 ? parts[0] : cat(parts, dim: 2);                         // [B, heads, HW, hd]
        o = o.reshape(b, heads, h, w, hd).permute(0, 2, 3, 1, 4).reshape(b, h, w, c);       // [B, H, W, C]
        return proj.forward(o).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// R[i, j] = table[i·max(k/q,1) − j·max(q/k,1) + (k−1)·max(q/k,1)]; the table is linearly resized when its length
    /// is not 2·max(q,k)−1 (a grid other than the one it was trained for).
    /// </summary>
    internal static Tensor RelativeTable(long qSize, long kSize, Tensor table)
    {
        long maxDist = 2 * Math.Max(qSize, kSize) - 1;
        var t = table;
        if (table.shape[0] != maxDist)
        {
            var r = nn.functional.interpolate(table.transpose(0, 1).unsqueeze(0), size: [maxDist], mode: InterpolationMode.Linear, align_corners: false); // [1, hd, L']
            t = r.squeeze(0).transpose(0, 1);                                                         // [L', hd]
        }
        double qScale = Math.Max((double)kSize / qSize, 1.0), kScale = Math.Max((double)qSize / kSize, 1.0);
        using Scalar zero = 0, one = 1, qEnd = qSize, kEnd = kSize, qStep = qScale, kStep = kScale, offset = (kSize - 1) * kScale;
        var qc = arange(zero, qEnd, one, dtype: float64).unsqueeze(1) * qStep;       // [q, 1]
        var kc = arange(zero, kEnd, one, dtype: float64).unsqueeze(0) * kStep;       // [1, k]
        var idx = (qc - kc).add(offset, one).to(int64);                                // [q, k]
        return t.index_select(0, idx.flatten()).view(qSize, kSize, -1);               // [q, k, hd]
    }
}

/// <summary>Neck: conv1x1 (no bias) → LayerNorm2d → conv3x3 pad 1 (no bias) → LayerNorm2d.</summary>
internal sealed class SamNeck : Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly LayerNorm2d layer_norm1;
    private readonly Conv2d conv2;
    private readonly LayerNorm2d layer_norm2;

    public SamNeck(PixelEncoderConfig c) : base(nameof(SamNeck))
    {
        conv1 = nn.Conv2d(c.HiddenSize, c.OutputChannels, 1, bias: false);
        layer_norm1 = new LayerNorm2d(c.OutputChannels);
        conv2 = nn.Conv2d(c.OutputChannels, c.OutputChannels, 3, padding: 1, bias: false);
        layer_norm2 = new LayerNorm2d(c.OutputChannels);
        RegisterComponents();
    }

    /// <param name="x">[B, C, H, W]</param>
    /// <returns>[B, C_p, H, W]</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = layer_norm1.forward(conv1.forward(x));   // [B, C_p, H, W]
        y = layer_norm2.forward(conv2.forward(y));       // [B, C_p, H, W]
        return y.MoveToOuterDisposeScope();
    }
}
