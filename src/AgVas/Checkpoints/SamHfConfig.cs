using System.Text.Json.Serialization;
using AgVas.Modeling;

namespace AgVas.Checkpoints;

/// <summary>
/// The fields of a Hugging Face <c>SamModel</c> config.json (<c>facebook/sam-vit-base/large/huge</c>) that the vision
/// side reads. An absent field takes transformers' default, as <c>SamConfig</c> does.
/// </summary>
public sealed record SamHfConfig
{
    [JsonPropertyName("model_type")] public string? ModelType { get; init; }
    [JsonPropertyName("vision_config")] public SamHfVisionConfig? VisionConfig { get; init; }
    [JsonPropertyName("mask_decoder_config")] public SamHfMaskDecoderConfig? MaskDecoderConfig { get; init; }

    /// <summary>The pixel encoder configuration; <paramref name="path"/> names the file in errors.</summary>
    public PixelEncoderConfig ToPixelEncoderConfig(string path)
    {
        var v = VisionConfig ?? new SamHfVisionConfig();
        int hidden = v.HiddenSize ?? 768;
        var act = ActivationExtensions.FromHuggingFace(v.HiddenAct ?? "gelu")
            ?? throw new CheckpointException(path, $"vision_config.hidden_act: unsupported activation '{v.HiddenAct}'");
        return new PixelEncoderConfig(
            HiddenSize: hidden,
            NumHiddenLayers: v.NumHiddenLayers ?? 12,
            NumAttentionHeads: v.NumAttentionHeads ?? 12,
            MlpDim: v.MlpDim ?? (int)(hidden * (v.MlpRatio ?? 4.0)),
            GlobalAttnIndexes: v.GlobalAttnIndexes ?? [2, 5, 8, 11],
            ImageSize: v.ImageSize ?? 1024,
            PatchSize: v.PatchSize ?? 16,
            OutputChannels: v.OutputChannels ?? 256,
            WindowSize: v.WindowSize ?? 14,
            QkvBias: v.QkvBias ?? true,
            UseAbsPos: v.UseAbsPos ?? true,
            UseRelPos: v.UseRelPos ?? true,
            LayerNormEps: v.LayerNormEps ?? 1e-6,
            NumChannels: v.NumChannels ?? 3,
            HiddenAct: act);
    }

    /// <summary>
    /// The AGMD sizes of SAM's mask decoder; α, threshold and the no-mask option come from <paramref name="ours"/>.
    /// </summary>
    public AgmdConfig ToAgmdConfig(string path, AgmdConfig ours)
    {
        var m = MaskDecoderConfig ?? new SamHfMaskDecoderConfig();
        if ((m.HiddenAct ?? "relu") != "relu")
            throw new CheckpointException(path, $"mask_decoder_config.hidden_act: '{m.HiddenAct}' is not supported (SAM's two-way transformer uses relu)");
        return ours with
        {
            HiddenSize = m.HiddenSize ?? 256,
            NumHiddenLayers = m.NumHiddenLayers ?? 2,
            NumAttentionHeads = m.NumAttentionHeads ?? 8,
            MlpDim = m.MlpDim ?? 2048,
            AttentionDownsampleRate = m.AttentionDownsampleRate ?? 2,
            LayerNormEps = m.LayerNormEps ?? 1e-6,
        };
    }
}

/// <summary><c>vision_config</c> of a SAM config.json (HF <c>SamVisionConfig</c>).</summary>
public sealed record SamHfVisionConfig
{
    [JsonPropertyName("hidden_size")] public int? HiddenSize { get; init; }
    [JsonPropertyName("output_channels")] public int? OutputChannels { get; init; }
    [JsonPropertyName("num_hidden_layers")] public int? NumHiddenLayers { get; init; }
    [JsonPropertyName("num_attention_heads")] public int? NumAttentionHeads { get; init; }
    [JsonPropertyName("num_channels")] public int? NumChannels { get; init; }
    [JsonPropertyName("image_size")] public int? ImageSize { get; init; }
    [JsonPropertyName("patch_size")] public int? PatchSize { get; init; }
    [JsonPropertyName("hidden_act")] public string? HiddenAct { get; init; }
    [JsonPropertyName("layer_norm_eps")] public double? LayerNormEps { get; init; }
    [JsonPropertyName("qkv_bias")] public bool? QkvBias { get; init; }
    [JsonPropertyName("mlp_ratio")] public double? MlpRatio { get; init; }
    [JsonPropertyName("mlp_dim")] public int? MlpDim { get; init; }
    [JsonPropertyName("use_abs_pos")] public bool? UseAbsPos { get; init; }
    [JsonPropertyName("use_rel_pos")] public bool? UseRelPos { get; init; }
    [JsonPropertyName("window_size")] public int? WindowSize { get; init; }
    [JsonPropertyName("global_attn_indexes")] public int[]? GlobalAttnIndexes { get; init; }
}

/// <summary><c>mask_decoder_config</c> of a SAM config.json (HF <c>SamMaskDecoderConfig</c>).</summary>
public sealed record SamHfMaskDecoderConfig
{
    [JsonPropertyName("hidden_size")] public int? HiddenSize { get; init; }
    [JsonPropertyName("hidden_act")] public string? HiddenAct { get; init; }
    [JsonPropertyName("mlp_dim")] public int? MlpDim { get; init; }
    [JsonPropertyName("num_hidden_layers")] public int? NumHiddenLayers { get; init; }
    [JsonPropertyName("num_attention_heads")] public int? NumAttentionHeads { get; init; }
    [JsonPropertyName("attention_downsample_rate")] public int? AttentionDownsampleRate { get; init; }
    [JsonPropertyName("num_multimask_outputs")] public int? NumMultimaskOutputs { get; init; }
    [JsonPropertyName("layer_norm_eps")] public double? LayerNormEps { get; init; }
}
