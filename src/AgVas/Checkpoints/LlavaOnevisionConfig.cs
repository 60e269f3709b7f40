using System.Text.Json;
using System.Text.Json.Serialization;
using AgVas.Modeling;

namespace AgVas.Checkpoints;

/// <summary>The fields of a Hugging Face LLaVA-OneVision <c>config.json</c> (<c>llava-onevision-qwen2-*-ov-hf</c>) that the
/// language side reads, each bound by name. A field the file omits keeps the class default of <c>transformers</c>
/// (its config.json only holds values that differ from the defaults).</summary>
public sealed record LlavaOnevisionConfig
{
    [JsonPropertyName("model_type")] public string? ModelType { get; init; }
    [JsonPropertyName("text_config")] public Qwen2Config? TextConfig { get; init; }
    /// <summary>Id of the &lt;image&gt; placeholder token (151646 in the public checkpoints).</summary>
    [JsonPropertyName("image_token_index")] public int? ImageTokenIndex { get; init; }
    /// <summary>Newer transformers write the placeholder id under this name.</summary>
    [JsonPropertyName("image_token_id")] public int? ImageTokenId { get; init; }
    [JsonPropertyName("video_token_index")] public int? VideoTokenIndex { get; init; }
    /// <summary>The SigLIP vision tower's config, left raw for the vision side to bind.</summary>
    [JsonPropertyName("vision_config")] public JsonElement? VisionConfig { get; init; }

    /// <summary>The image placeholder id: image_token_index, else image_token_id, else transformers' default 151646.</summary>
    [JsonIgnore] public int ImagePlaceholderId => ImageTokenIndex ?? ImageTokenId ?? 151646;

    /// <summary>Reads and validates a config.json; errors name the file.</summary>
    public static LlavaOnevisionConfig Load(string path)
    {
        if (!File.Exists(path)) throw new CheckpointException(path, "config.json not found");
        LlavaOnevisionConfig? config;
        try { config = JsonSerializer.Deserialize<LlavaOnevisionConfig>(File.ReadAllText(path)); }
        catch (JsonException e) { throw new CheckpointException(path, "malformed JSON: " + e.Message); }
        if (config is null) throw new CheckpointException(path, "empty config");
        if (config.ModelType is not null && config.ModelType != "llava_onevision")
            throw new CheckpointException(path, $"model_type is \"{config.ModelType}\", expected \"llava_onevision\"");
        if (config.TextConfig is null) throw new CheckpointException(path, "no text_config");
        try { config.TextConfig.Validate(); }
        catch (ArgumentException e) { throw new CheckpointException(path, "text_config: " + e.Message); }
        return config;
    }
}
