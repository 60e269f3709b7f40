using System.Text.Json;
using System.Text.Json.Serialization;
using AgVas.Modeling;

namespace AgVas.Checkpoints;

/// <summary>
/// The vision-side fields of a Hugging Face <c>LlavaOnevisionForConditionalGeneration</c> config.json
/// (<c>llava-hf/llava-onevision-qwen2-0.5b-ov-hf</c>, <c>-7b-ov-hf</c>): the SigLIP tower, which hidden state feeds the
/// projector, the projector's activation, and the LLM width the projector maps to. The language helper binds the rest.
/// </summary>
public sealed record HuggingFaceLlavaVisionConfig
{
    [JsonPropertyName("model_type")] public string? ModelType { get; init; }
    [JsonPropertyName("vision_config")] public SiglipHfVisionConfig? VisionConfig { get; init; }
    /// <summary>An int (−1 in LLaVA-OneVision) or, in newer configs, a list of layers (not supported).</summary>
    [JsonPropertyName("vision_feature_layer")] public JsonElement? VisionFeatureLayer { get; init; }
    [JsonPropertyName("vision_feature_select_strategy")] public string? VisionFeatureSelectStrategy { get; init; }
    [JsonPropertyName("projector_hidden_act")] public string? ProjectorHiddenAct { get; init; }
    [JsonPropertyName("multimodal_projector_bias")] public bool? MultimodalProjectorBias { get; init; }
    [JsonPropertyName("text_config")] public LlmWidth? TextConfig { get; init; }

    /// <summary>The two LLM sizes the vision side needs.</summary>
    public sealed record LlmWidth
    {
        [JsonPropertyName("hidden_size")] public int? HiddenSize { get; init; }
        [JsonPropertyName("num_attention_heads")] public int? NumAttentionHeads { get; init; }
    }

    public int FeatureLayer(string path)
    {
        if (VisionFeatureLayer is not { } e || e.ValueKind == JsonValueKind.Null) return -1;
        if (e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int layer)) return layer;
        throw new CheckpointException(path, $"vision_feature_layer: {e.GetRawText()} is not supported (one layer index expected)");
    }

    public SemanticEncoderConfig ToSemanticEncoderConfig(string path)
    {
        var strategy = VisionFeatureSelectStrategy ?? "full";
        if (strategy != "full")
            throw new CheckpointException(path, $"vision_feature_select_strategy: '{strategy}' is not supported (LLaVA-OneVision uses 'full')");
        if (VisionConfig?.VisionUseHead == true)
            throw new CheckpointException(path, "vision_config.vision_use_head: true is not supported (the tower is used without its pooling head)");
        return (VisionConfig ?? new SiglipHfVisionConfig()).ToSemanticEncoderConfig(path, "vision_config.", FeatureLayer(path));
    }

    public ProjectorConfig ToProjectorConfig(string path, SemanticEncoderConfig semantic)
    {
        var act = ActivationExtensions.FromHuggingFace(ProjectorHiddenAct ?? "gelu")
            ?? throw new CheckpointException(path, $"projector_hidden_act: unsupported activation '{ProjectorHiddenAct}'");
        if (MultimodalProjectorBias == false)
            throw new CheckpointException(path, "multimodal_projector_bias: false is not supported (mlp2x_gelu has biases)");
        return new ProjectorConfig(semantic.HiddenSize, LlmHiddenSize(path), act);
    }

    public int LlmHiddenSize(string path) =>
        TextConfig?.HiddenSize ?? throw new CheckpointException(path, "text_config.hidden_size: missing");

    public int LlmNumHeads(string path) =>
        TextConfig?.NumAttentionHeads ?? throw new CheckpointException(path, "text_config.num_attention_heads: missing");
}
