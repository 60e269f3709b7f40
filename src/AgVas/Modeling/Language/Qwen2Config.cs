using System.Text.Json.Serialization;

namespace AgVas.Modeling;

/// <summary>Sizes of a Qwen2 decoder (the LLM of LLaVA-OneVision, docs/design.md §3.4). Binds Hugging Face's
/// <c>Qwen2Config</c> JSON (a plain Qwen2 <c>config.json</c> or LLaVA-OneVision's <c>text_config</c>) field by field;
/// a field the JSON omits keeps Hugging Face's class default, as <c>transformers</c> does.</summary>
public sealed record Qwen2Config
{
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 4096;
    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; } = 32;
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; } = 32;
    [JsonPropertyName("num_key_value_heads")] public int NumKeyValueHeads { get; init; } = 32;
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; } = 22016;
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; } = 151936;
    [JsonPropertyName("rms_norm_eps")] public double RmsNormEps { get; init; } = 1e-6;
    [JsonPropertyName("rope_theta")] public double RopeTheta { get; init; } = 10000.0;
    [JsonPropertyName("tie_word_embeddings")] public bool TieWordEmbeddings { get; init; }
    [JsonPropertyName("max_position_embeddings")] public int MaxPositionEmbeddings { get; init; } = 32768;
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "silu";

    /// <summary>Width of one attention head: hidden_size / num_attention_heads.</summary>
    [JsonIgnore] public int HeadDim => HiddenSize / NumAttentionHeads;

    /// <summary>LLaVA-OneVision-7B's LLM (Qwen2-7B, the paper's base): untied head. The vocabulary is that of
    /// <c>llava-onevision-qwen2-7b-ov-hf</c>'s text_config (Qwen2-7B's 152064 + &lt;image&gt;, &lt;video&gt;, padded to 64).</summary>
    public static Qwen2Config Paper => new()
    {
        HiddenSize = 3584, NumHiddenLayers = 28, NumAttentionHeads = 28, NumKeyValueHeads = 4, IntermediateSize = 18944,
        VocabSize = 152128, RmsNormEps = 1e-6, RopeTheta = 1e6, TieWordEmbeddings = false, MaxPositionEmbeddings = 32768,
    };

    /// <summary>LLaVA-OneVision-0.5B's LLM (Qwen2-0.5B): tied head; vocabulary of <c>llava-onevision-qwen2-0.5b-ov-hf</c>'s
    /// text_config (Qwen2-0.5B's 151936 + &lt;image&gt;, &lt;video&gt;, padded to 64).</summary>
    public static Qwen2Config Ov05b => new()
    {
        HiddenSize = 896, NumHiddenLayers = 24, NumAttentionHeads = 14, NumKeyValueHeads = 2, IntermediateSize = 4864,
        VocabSize = 152000, RmsNormEps = 1e-6, RopeTheta = 1e6, TieWordEmbeddings = true, MaxPositionEmbeddings = 32768,
    };

    /// <summary>A tiny decoder for tests (width 256 and 4 heads, the LLM width the tiny vision preset is composed with), sized for the tiny tokenizer (<see cref="Text.Qwen2Tokenizer.Tiny"/>: 506 BPE
    /// tokens and 5 specials, 512 rows like Hugging Face's padded vocabularies).</summary>
    public static Qwen2Config Tiny => new()
    {
        HiddenSize = 256, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2, IntermediateSize = 512,
        VocabSize = 512, RmsNormEps = 1e-6, RopeTheta = 10000, TieWordEmbeddings = true, MaxPositionEmbeddings = 2048,
    };

    /// <summary>Checks the invariants the modules rely on; throws naming the bad field.</summary>
    public Qwen2Config Validate()
    {
        void Require(bool ok, string field, string problem)
        {
            if (!ok) throw new ArgumentException($"Qwen2Config.{field}: {problem}");
        }
        Require(HiddenSize > 0, nameof(HiddenSize), $"must be positive, got {HiddenSize}");
        Require(NumHiddenLayers > 0, nameof(NumHiddenLayers), $"must be positive, got {NumHiddenLayers}");
        Require(NumAttentionHeads > 0 && HiddenSize % NumAttentionHeads == 0, nameof(NumAttentionHeads),
            $"must divide hidden_size {HiddenSize}, got {NumAttentionHeads}");
        Require(HeadDim % 2 == 0, nameof(NumAttentionHeads), $"head_dim {HeadDim} must be even for rotary embeddings");
        Require(NumKeyValueHeads > 0 && NumAttentionHeads % NumKeyValueHeads == 0, nameof(NumKeyValueHeads),
            $"must divide num_attention_heads {NumAttentionHeads}, got {NumKeyValueHeads}");
        Require(IntermediateSize > 0, nameof(IntermediateSize), $"must be positive, got {IntermediateSize}");
        Require(VocabSize > 0, nameof(VocabSize), $"must be positive, got {VocabSize}");
        Require(RmsNormEps > 0, nameof(RmsNormEps), $"must be positive, got {RmsNormEps}");
        Require(RopeTheta > 0, nameof(RopeTheta), $"must be positive, got {RopeTheta}");
        Require(MaxPositionEmbeddings > 0, nameof(MaxPositionEmbeddings), $"must be positive, got {MaxPositionEmbeddings}");
        Require(HiddenAct == "silu", nameof(HiddenAct), $"only \"silu\" is supported, got \"{HiddenAct}\"");
        return this;
    }

    /// <summary>Number of parameters of Qwen2ForCausalLM with this config (the lm_head counted only when untied).</summary>
    public long ParameterCount()
    {
        long d = HiddenSize, kv = (long)NumKeyValueHeads * HeadDim, ff = IntermediateSize, v = VocabSize;
        long attention = (d * d + d) + 2 * (d * kv + kv) + d * d;
        long layer = attention + 3 * d * ff + 2 * d;
        return v * d + NumHiddenLayers * layer + d + (TieWordEmbeddings ? 0 : v * d);
    }
}
