using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AgVas.Modeling;

/// <summary>The Qwen2 decoder stack (Hugging Face <c>Qwen2Model</c>): embed_tokens, layers.N, norm, rotary_emb.</summary>
public sealed class Qwen2Model : nn.Module
{
    private readonly Qwen2TokenEmbedding embed_tokens;
    private readonly ModuleList<Qwen2DecoderLayer> layers;
    private readonly Qwen2RmsNorm norm;
    private readonly Qwen2RotaryEmbedding rotary_emb;

    public Qwen2Model(string name, Qwen2Config config, LoraConfig? lora, Device? device = null) : base(name)
    {
        config.Validate();
        Config = config;
        embed_tokens = new Qwen2TokenEmbedding("embed_tokens", config.VocabSize, config.HiddenSize, device);
        layers = nn.ModuleList(Enumerable.Range(0, config.NumHiddenLayers)
            .Select(i => new Qwen2DecoderLayer(i.ToString(), i, config, lora, device)).ToArray());
        norm = new Qwen2RmsNorm("norm", config.HiddenSize, config.RmsNormEps, device);
        rotary_emb = new Qwen2RotaryEmbedding("rotary_emb", config.HeadDim, config.RopeTheta, device);
        RegisterComponents();
    }

    public Qwen2Config Config { get; }
    public Qwen2TokenEmbedding EmbedTokens => embed_tokens;
    public IReadOnlyList<Qwen2DecoderLayer> Layers => layers.ToList();

    /// <summary>Token ids [B, T] (int64) → embeddings [B, T, D].</summary>
    public Tensor Embed(Tensor ids) => embed_tokens.forward(ids);

    /// <summary>Runs the stack on input embeddings and returns the last layer's normed hidden states (what Hugging Face
    /// returns as the last entry of hidden_states).</summary>
    /// <param name="inputsEmbeds">[B, T, D].</param>
    /// <param name="attentionMask">[B, S] with S = past + T, 1 for real tokens and 0 for padding (left padding in batches);
    /// null means all real.</param>
    /// <param name="positionIds">[B, T] int64; null means past … past + T − 1.</param>
    /// <param name="cache">Receives the keys and values of these T positions; null for a full, uncached pass.</param>
    /// <returns>[B, T, D].</returns>
    public Tensor forward(Tensor inputsEmbeds, Tensor? attentionMask = null, Tensor? positionIds = null, Qwen2KvCache? cache = null)
    {
        using var scope = NewDisposeScope();
        long b = inputsEmbeds.shape[0], t = inputsEmbeds.shape[1];
        long past = cache?.Length ?? 0;
        var device = inputsEmbeds.device;
        using Scalar start = past, end = past + t, one = 1;
        positionIds ??= arange(start, end, one, dtype: ScalarType.Int64, device: device).unsqueeze(0).expand(b, t); // [B, T]
        var (cos, sin) = rotary_emb.forward(positionIds);                                    // [B, T, hd] each
        var mask = CausalMask(b, t, past, attentionMask, inputsEmbeds.dtype, device);         // [B, 1, T, S]
        var h = inputsEmbeds;
        foreach (var layer in layers) h = layer.forward(h, cos, sin, mask, cache);           // [B, T, D]
        return norm.forward(h).MoveToOuterDisposeScope();                                    // [B, T, D]
    }

    /// <summary>Additive mask [B, 1, T, S]: query i (absolute position past + i) sees key j when j ≤ past + i and key j is
    /// not padding. Masked entries hold the dtype's lowest value (not −∞) so a fully padded row stays finite.</summary>
    internal static Tensor CausalMask(long b, long t, long past, Tensor? attentionMask, ScalarType dtype, Device device)
    {
        using var scope = NewDisposeScope();
        long s = past + t;
        double lowest = dtype == ScalarType.Float64 ? double.MinValue : dtype == ScalarType.Float32 ? float.MinValue : -65504.0;
        using Scalar start = past, end = s, zero = 0, one = 1, fill = lowest;
        var queryPos = arange(start, end, one, dtype: ScalarType.Int64, device: device).unsqueeze(1); // [T, 1]
        var keyPos = arange(zero, end, one, dtype: ScalarType.Int64, device: device).unsqueeze(0);    // [1, S]
        var allowed = keyPos.le(queryPos).unsqueeze(0).unsqueeze(0);                             // [1, 1, T, S]
        if (attentionMask is not null)
            allowed = allowed.logical_and(attentionMask.to(device).gt(zero).view(b, 1, 1, s));  // [B, 1, T, S]
        var visible = zeros(1, dtype: dtype, device: device);
        var neg = full(1, fill, dtype: dtype, device: device);
        return where(allowed, visible, neg).expand(b, 1, t, s).MoveToOuterDisposeScope();        // [B, 1, T, S]
    }
}

/// <summary>One pre-norm Qwen2 decoder layer: x + self_attn(input_layernorm(x)), then + mlp(post_attention_layernorm(·)).</summary>
public sealed class Qwen2DecoderLayer : nn.Module
{
    private readonly Qwen2Attention self_attn;
    private readonly Qwen2Mlp mlp;
    private readonly Qwen2RmsNorm input_layernorm;
    private readonly Qwen2RmsNorm post_attention_layernorm;
    private readonly int index;

    public Qwen2DecoderLayer(string name, int index, Qwen2Config config, LoraConfig? lora, Device? device = null) : base(name)
    {
        this.index = index;
        self_attn = new Qwen2Attention("self_attn", config, lora, device);
        mlp = new Qwen2Mlp("mlp", config, lora, device);
        input_layernorm = new Qwen2RmsNorm("input_layernorm", config.HiddenSize, config.RmsNormEps, device);
        post_attention_layernorm = new Qwen2RmsNorm("post_attention_layernorm", config.HiddenSize, config.RmsNormEps, device);
        RegisterComponents();
    }

    public IEnumerable<LoraLinear> Linears() => self_attn.Linears().Concat(mlp.Linears());

    /// <summary>x [B, T, D]; cos, sin [B, T, head_dim]; mask [B, 1, T, S]. Returns [B, T, D].</summary>
    public Tensor forward(Tensor x, Tensor cos, Tensor sin, Tensor mask, Qwen2KvCache? cache)
    {
        using var scope = NewDisposeScope();
        var h = x.Plus(self_attn.forward(input_layernorm.forward(x), cos, sin, mask, cache, index));  // [B, T, D]
        return h.Plus(mlp.forward(post_attention_layernorm.forward(h))).MoveToOuterDisposeScope();   // [B, T, D]
    }
}

/// <summary>Qwen2's grouped-query self-attention: q/k/v projections with bias, o_proj without; H query heads share
/// KV key/value heads (H / KV queries per group); rotary embeddings on q and k; optional KV cache.</summary>
public sealed class Qwen2Attention : nn.Module
{
    private readonly LoraLinear q_proj;
    private readonly LoraLinear k_proj;
    private readonly LoraLinear v_proj;
    private readonly LoraLinear o_proj;
    private readonly int numHeads;
    private readonly int numKvHeads;
    private readonly int headDim;

    public Qwen2Attention(string name, Qwen2Config config, LoraConfig? lora, Device? device = null) : base(name)
    {
        numHeads = config.NumAttentionHeads;
        numKvHeads = config.NumKeyValueHeads;
        headDim = config.HeadDim;
        int d = config.HiddenSize;
        q_proj = new LoraLinear("q_proj", d, numHeads * headDim, true, Qwen2Mlp.Pick(lora, LoraTargets.QProj), device);
        k_proj = new LoraLinear("k_proj", d, numKvHeads * headDim, true, Qwen2Mlp.Pick(lora, LoraTargets.KProj), device);
        v_proj = new LoraLinear("v_proj", d, numKvHeads * headDim, true, Qwen2Mlp.Pick(lora, LoraTargets.VProj), device);
        o_proj = new LoraLinear("o_proj", numHeads * headDim, d, false, Qwen2Mlp.Pick(lora, LoraTargets.OProj), device);
        RegisterComponents();
    }

    public IEnumerable<LoraLinear> Linears() => [q_proj, k_proj, v_proj, o_proj];

    /// <summary>x [B, T, D]; cos, sin [B, T, head_dim]; mask [B, 1, T, S] additive (0 or very negative), S = past + T;
    /// cache (optional) receives this step's keys and values for <paramref name="layer"/>. Returns [B, T, D].</summary>
    public Tensor forward(Tensor x, Tensor cos, Tensor sin, Tensor mask, Qwen2KvCache? cache, int layer)
    {
        using var scope = NewDisposeScope();
        using Scalar scale = 1.0 / Math.Sqrt(headDim);
        long b = x.shape[0], t = x.shape[1];
        var q = q_proj.forward(x).view(b, t, numHeads, headDim).transpose(1, 2);          // [B, H, T, hd]
        var k = k_proj.forward(x).view(b, t, numKvHeads, headDim).transpose(1, 2);        // [B, KV, T, hd]
        var v = v_proj.forward(x).view(b, t, numKvHeads, headDim).transpose(1, 2);        // [B, KV, T, hd]
        q = Qwen2RotaryEmbedding.Apply(q, cos, sin);                                         // [B, H, T, hd]
        k = Qwen2RotaryEmbedding.Apply(k, cos, sin);                                         // [B, KV, T, hd]
        if (cache is not null) (k, v) = cache.Append(layer, k, v);                           // [B, KV, S, hd]
        int group = numHeads / numKvHeads;
        var kr = group == 1 ? k : k.repeat_interleave(group, dim: 1);                       // [B, H, S, hd]
        var vr = group == 1 ? v : v.repeat_interleave(group, dim: 1);                       // [B, H, S, hd]
        var scores = matmul(q, kr.transpose(2, 3)).mul(scale);                             // [B, H, T, S]
        scores = scores.Plus(mask);                                                          // [B, H, T, S]
        var probs = softmax(scores, dim: -1, dtype: ScalarType.Float32).to_type(q.dtype);   // [B, H, T, S]
        var context = matmul(probs, vr);                                                     // [B, H, T, hd]
        context = context.transpose(1, 2).reshape(b, t, numHeads * headDim);                 // [B, T, H·hd]
        return o_proj.forward(context).MoveToOuterDisposeScope();                           // [B, T, D]
    }
}

/// <summary>Qwen2's SwiGLU feed-forward block: down_proj(silu(gate_proj(x)) · up_proj(x)), no biases.</summary>
public sealed class Qwen2Mlp : nn.Module<Tensor, Tensor>
{
    private readonly LoraLinear gate_proj;
    private readonly LoraLinear up_proj;
    private readonly LoraLinear down_proj;

    public Qwen2Mlp(string name, Qwen2Config config, LoraConfig? lora, Device? device = null) : base(name)
    {
        int d = config.HiddenSize, ff = config.IntermediateSize;
        gate_proj = new LoraLinear("gate_proj", d, ff, false, Pick(lora, LoraTargets.GateProj), device);
        up_proj = new LoraLinear("up_proj", d, ff, false, Pick(lora, LoraTargets.UpProj), device);
        down_proj = new LoraLinear("down_proj", ff, d, false, Pick(lora, LoraTargets.DownProj), device);
        RegisterComponents();
    }

    internal static LoraConfig? Pick(LoraConfig? lora, LoraTargets target) =>
        lora is not null && lora.Targets.HasFlag(target) ? lora : null;

    public IEnumerable<LoraLinear> Linears() => [gate_proj, up_proj, down_proj];

    /// <summary>x [B, T, D] → [B, T, D].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var gated = nn.functional.silu(gate_proj.forward(x)).mul(up_proj.forward(x));       // [B, T, FF]
        return down_proj.forward(gated).MoveToOuterDisposeScope();                          // [B, T, D]
    }
}

/// <summary>Root-mean-square layer norm of Qwen2: y = weight · x / sqrt(mean(x²) + eps), computed in float32.</summary>
public sealed class Qwen2RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly double eps;

    public Qwen2RmsNorm(string name, int hiddenSize, double eps, Device? device = null) : base(name)
    {
        weight = new Parameter(ones(hiddenSize, device: device));
        this.eps = eps;
        RegisterComponents();
    }

    /// <summary>x [..., D] → [..., D].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        using Scalar two = 2, epsilon = eps, one = 1;
        var x32 = x.to_type(ScalarType.Float32);
        var variance = x32.pow(two).mean([-1L], keepdim: true);                            // [..., 1]
        var normed = x32.mul(rsqrt(variance.add(epsilon, one))).to_type(x.dtype);          // [..., D]
        return weight.mul(normed).MoveToOuterDisposeScope();
    }
}

/// <summary>Rotary position embeddings (RoPE) of Qwen2 with the default (unscaled) frequencies
/// inv_freq_i = 1 / theta^(2i / head_dim). Produces cos and sin tables for given positions; the rotation itself is
/// <see cref="Apply"/>, which pairs dimension j with j + head_dim/2 (Hugging Face's rotate_half convention).</summary>
public sealed class Qwen2RotaryEmbedding : nn.Module<Tensor, (Tensor Cos, Tensor Sin)>
{
    private readonly Tensor inv_freq;

    public Qwen2RotaryEmbedding(string name, int headDim, double theta, Device? device = null) : base(name)
    {
        using Scalar zero = 0, end = headDim, step = 2;
        var exponents = arange(zero, end, step, dtype: ScalarType.Int64).to_type(ScalarType.Float32).div_(end); // [head_dim/2]
        inv_freq = pow(theta, exponents).reciprocal_().to(device ?? CPU);
        exponents.Dispose();
        // Derived from the config, never loaded: not part of the state dict (Hugging Face: persistent=False).
        register_buffer("inv_freq", inv_freq, persistent: false);
        RegisterComponents();
    }

    /// <summary>positionIds [B, T] (int64) → cos, sin [B, T, head_dim], float32.</summary>
    public override (Tensor Cos, Tensor Sin) forward(Tensor positionIds)
    {
        using var scope = NewDisposeScope();
        var positions = positionIds.to_type(ScalarType.Float32).unsqueeze(-1);              // [B, T, 1]
        var freqs = positions.mul(inv_freq.to(positionIds.device));                           // [B, T, head_dim/2]
        var emb = cat([freqs, freqs], dim: -1);                                             // [B, T, head_dim]
        return (emb.cos().MoveToOuterDisposeScope(), emb.sin().MoveToOuterDisposeScope());
    }

    /// <summary>Rotates x [B, heads, T, head_dim] by cos, sin [B, T, head_dim]: x·cos + rotate_half(x)·sin.</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        long half = x.shape[^1] / 2;
        var c = cos.unsqueeze(1).to_type(x.dtype);                                          // [B, 1, T, head_dim]
        var s = sin.unsqueeze(1).to_type(x.dtype);                                          // [B, 1, T, head_dim]
        var x1 = x[.., .., .., ..(int)half];                                                // [B, heads, T, head_dim/2]
        var x2 = x[.., .., .., (int)half..];                                                // [B, heads, T, head_dim/2]
        var rotated = cat([x2.neg(), x1], dim: -1);                                         // [B, heads, T, head_dim]
        return x.mul(c).Plus(rotated.mul(s)).MoveToOuterDisposeScope();
    }
}

/// <summary>The token embedding table (<c>embed_tokens.weight</c> [V, D], N(0, 0.02) init). Ours rather than nn.Embedding so
/// the table is created directly on the target device (the meta device for layout checks) with one allocation.</summary>
public sealed class Qwen2TokenEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;

    public Qwen2TokenEmbedding(string name, int vocabSize, int hiddenSize, Device? device = null) : base(name)
    {
        weight = new Parameter(empty(vocabSize, hiddenSize, device: device));
        nn.init.normal_(weight, 0, 0.02);
        RegisterComponents();
    }

    public Parameter Weight => weight;

    /// <summary>ids [B, T] (int64) → [B, T, D].</summary>
    public override Tensor forward(Tensor ids)
    {
        using var scope = NewDisposeScope();
        var rows = weight.index_select(0, ids.flatten());                                    // [B·T, D]
        return rows.view([.. ids.shape, weight.shape[1]]).MoveToOuterDisposeScope();         // [B, T, D]
    }
}

/// <summary>Keys and values of past positions, one pair per decoder layer, for incremental decoding. The cache owns its
/// tensors (detached from every dispose scope) and frees them on <see cref="Dispose"/> or when they are replaced.</summary>
public sealed class Qwen2KvCache : IDisposable
{
    private readonly Tensor?[] keys;
    private readonly Tensor?[] values;

    public Qwen2KvCache(int numLayers)
    {
        keys = new Tensor?[numLayers];
        values = new Tensor?[numLayers];
    }

    /// <summary>Number of cached positions (that of layer 0).</summary>
    public long Length => keys[0]?.shape[2] ?? 0;

    /// <summary>Appends key, value [B, KV, T, head_dim] of <paramref name="layer"/> and returns the full
    /// [B, KV, past + T, head_dim] tensors (owned by the cache: callers must not dispose them).</summary>
    public (Tensor Key, Tensor Value) Append(int layer, Tensor key, Tensor value)
    {
        keys[layer] = Replace(keys[layer], key);
        values[layer] = Replace(values[layer], value);
        return (keys[layer]!, values[layer]!);
    }

    private static Tensor Replace(Tensor? past, Tensor next)
    {
        var full = past is null ? next.clone() : cat([past, next], dim: 2);                 // [B, KV, past + T, head_dim]
        full.DetachFromDisposeScope();
        past?.Dispose();
        return full;
    }

    public void Dispose()
    {
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i]?.Dispose();
            values[i]?.Dispose();
            keys[i] = values[i] = null;
        }
    }
}
