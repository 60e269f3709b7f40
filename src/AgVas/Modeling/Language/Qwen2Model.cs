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
