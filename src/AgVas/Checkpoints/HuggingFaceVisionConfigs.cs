using System.Text.Json;
using AgVas.Modeling;

namespace AgVas.Checkpoints;

/// <summary>What one Hugging Face checkpoint directory contributes to the vision side (null = not in this checkpoint).</summary>
public sealed record HuggingFaceVisionParts(
    string ConfigPath,
    string ModelType,
    SemanticEncoderConfig? SemanticEncoder = null,
    ProjectorConfig? Projector = null,
    int? LlmHiddenSize = null,
    int? LlmNumHeads = null,
    PixelEncoderConfig? PixelEncoder = null,
    AgmdConfig? Agmd = null);

/// <summary>
/// Reads the config.json of the supported public layouts — <c>sam</c> (SamModel), <c>llava_onevision</c>
/// (LlavaOnevisionForConditionalGeneration), <c>siglip</c> / <c>siglip_vision_model</c> — into vision configs.
/// </summary>
public static class HuggingFaceVisionConfigs
{
    /// <param name="fileOrDirectory">a config.json, or the checkpoint directory holding one</param>
    public static HuggingFaceVisionParts Read(string fileOrDirectory, AgmdConfig? agmdOptions = null)
    {
        var path = Directory.Exists(fileOrDirectory) ? Path.Combine(fileOrDirectory, "config.json") : fileOrDirectory;
        if (!File.Exists(path)) throw new CheckpointException(path, "config.json not found");
        string text;
        try { text = File.ReadAllText(path); }
        catch (IOException e) { throw new CheckpointException(path, $"cannot read: {e.Message}"); }
        try
        {
            var modelType = JsonDocument.Parse(text).RootElement.TryGetProperty("model_type", out var mt) && mt.ValueKind == JsonValueKind.String
                ? mt.GetString()! : throw new CheckpointException(path, "model_type: missing");
            switch (modelType)
            {
                case "sam":
                {
                    var c = JsonSerializer.Deserialize<SamHfConfig>(text)!;
                    return new HuggingFaceVisionParts(path, modelType,
                        PixelEncoder: c.ToPixelEncoderConfig(path), Agmd: c.ToAgmdConfig(path, agmdOptions ?? new AgmdConfig()));
                }
                case "llava_onevision":
                {
                    var c = JsonSerializer.Deserialize<HuggingFaceLlavaVisionConfig>(text)!;
                    var semantic = c.ToSemanticEncoderConfig(path);
                    return new HuggingFaceVisionParts(path, modelType, semantic, c.ToProjectorConfig(path, semantic),
                        c.LlmHiddenSize(path), c.LlmNumHeads(path));
                }
                case "siglip":
                {
                    var c = JsonSerializer.Deserialize<SiglipHfConfig>(text)!;
                    var v = c.VisionConfig ?? new SiglipHfVisionConfig();
                    return new HuggingFaceVisionParts(path, modelType, v.ToSemanticEncoderConfig(path, "vision_config.", -1));
                }
                case "siglip_vision_model":
                {
                    var v = JsonSerializer.Deserialize<SiglipHfVisionConfig>(text)!;
                    return new HuggingFaceVisionParts(path, modelType, v.ToSemanticEncoderConfig(path, "", -1));
                }
                default:
                    throw new CheckpointException(path, $"model_type: '{modelType}' is not a supported vision checkpoint (sam, llava_onevision, siglip, siglip_vision_model)");
            }
        }
        catch (JsonException e)
        {
            throw new CheckpointException(path, $"invalid config JSON: {e.Message}");
        }
    }

    /// <summary>
    /// Overrides the parts of <paramref name="baseConfig"/> that the checkpoints describe; the LLM width, when a
    /// LLaVA-OneVision config gives it, re-targets projector, SPAM and Token Refiner together.
    /// </summary>
    public static VisionConfig Compose(VisionConfig baseConfig, IEnumerable<HuggingFaceVisionParts> parts)
    {
        var c = baseConfig;
        foreach (var p in parts)
        {
            if (p.SemanticEncoder is { } s)
                c = c with { SemanticEncoder = s, Projector = c.Projector with { InputSize = s.HiddenSize } };
            if (p.Projector is { } pr) c = c with { Projector = c.Projector with { HiddenAct = pr.HiddenAct } };
            if (p.LlmHiddenSize is int hidden && p.LlmNumHeads is int heads) c = c.WithLlm(hidden, heads);
            if (p.PixelEncoder is { } px)
                c = c with
                {
                    PixelEncoder = px,
                    Spam = c.Spam with { PixelDim = px.OutputChannels, PixelGridSize = px.GridSize },
                };
            if (p.Agmd is { } a)
                c = c with { Agmd = a, TokenRefiner = c.TokenRefiner with { OutputDim = a.HiddenSize } };
        }
        return c;
    }
}
