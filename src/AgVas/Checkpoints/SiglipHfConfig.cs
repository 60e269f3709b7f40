using System.Text.Json.Serialization;
using AgVas.Modeling;

namespace AgVas.Checkpoints;

/// <summary>
/// A Hugging Face <c>SiglipVisionConfig</c> (the <c>vision_config</c> of LLaVA-OneVision or of a SigLIP checkpoint).
/// An absent field takes transformers' default.
/// </summary>
public sealed record SiglipHfVisionConfig
{
    [JsonPropertyName("model_type")] public string? ModelType { get; init; }
    [JsonPropertyName("hidden_size")] public int? HiddenSize { get; init; }
    [JsonPropertyName("intermediate_size")] public int? IntermediateSize { get; init; }
    [JsonPropertyName("num_hidden_layers")] public int? NumHiddenLayers { get; init; }
    [JsonPropertyName("num_attention_heads")] public int? NumAttentionHeads { get; init; }
    [JsonPropertyName("num_channels")] public int? NumChannels { get; init; }
    [JsonPropertyName("image_size")] public int? ImageSize { get; init; }
    [JsonPropertyName("patch_size")] public int? PatchSize { get; init; }
    [JsonPropertyName("hidden_act")] public string? HiddenAct { get; init; }
    [JsonPropertyName("layer_norm_eps")] public double? LayerNormEps { get; init; }
    [JsonPropertyName("vision_use_head")] public bool? VisionUseHead { get; init; }

    /// <param name="path">names the file in errors</param>
    /// <param name="prefix">the field path of this object in the file, e.g. <c>vision_config.</c></param>
    /// <param name="featureLayer">the hidden state to select (LLaVA's <c>vision_feature_layer</c>)</param>
    public SemanticEncoderConfig ToSemanticEncoderConfig(string path, string prefix, int featureLayer)
    {
        var act = ActivationExtensions.FromHuggingFace(HiddenAct ?? "gelu_pytorch_tanh")
            ?? throw new CheckpointException(path, $"{prefix}hidden_act: unsupported activation '{HiddenAct}'");
        return new SemanticEncoderConfig(
            HiddenSize: HiddenSize ?? 768,
            IntermediateSize: IntermediateSize ?? 3072,
            NumHiddenLayers: NumHiddenLayers ?? 12,
            NumAttentionHeads: NumAttentionHeads ?? 12,
            ImageSize: ImageSize ?? 224,
            PatchSize: PatchSize ?? 16,
            NumChannels: NumChannels ?? 3,
            LayerNormEps: LayerNormEps ?? 1e-6,
            HiddenAct: act,
            FeatureLayer: featureLayer);
    }
}

/// <summary>The <c>config.json</c> of a SigLIP checkpoint: <c>siglip</c> (vision config nested) or <c>siglip_vision_model</c> (flat).</summary>
public sealed record SiglipHfConfig
{
    [JsonPropertyName("model_type")] public string? ModelType { get; init; }
    [JsonPropertyName("vision_config")] public SiglipHfVisionConfig? VisionConfig { get; init; }
}
