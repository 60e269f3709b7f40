using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace AgVas.Modeling;

/// <summary>The whole AG-VAS model's sizes (docs/design.md §2): the vision and mask side, the LLM, its LoRA adapters, and the
/// image placeholder id of the tokenizer. Presets compose the vision preset of the same name with the LLM preset.</summary>
public sealed record AgVasConfig(VisionConfig Vision, Qwen2Config Llm, LoraConfig Lora, int ImageTokenId)
{
    /// <summary>Id of &lt;image&gt; in Qwen2's tokenizer as extended by LLaVA-OneVision-hf.</summary>
    public const int LlavaOnevisionImageTokenId = 151646;
    /// <summary>Id of &lt;image&gt; in the tiny tokenizer.</summary>
    public const int TinyImageTokenId = 509;

    public static IReadOnlyList<string> PresetNames => VisionPresets.Names;

    /// <summary>paper (LLaVA-OneVision-7B + SAM ViT-H), ov-0.5b (LLaVA-OneVision-0.5B + SAM ViT-B) or tiny.</summary>
    public static AgVasConfig Preset(string name)
    {
        var llm = name switch
        {
            "paper" => Qwen2Config.Paper,
            "ov-0.5b" => Qwen2Config.Ov05b,
            "tiny" or "tiny-resnet" => Qwen2Config.Tiny,
            _ => throw new ModelConfigException("preset", $"unknown preset '{name}' (known: {string.Join(", ", PresetNames)})"),
        };
        var vision = VisionPresets.Get(name).WithLlm(llm.HiddenSize, llm.NumAttentionHeads);
        return new AgVasConfig(vision, llm, new LoraConfig(), name.StartsWith("tiny", StringComparison.Ordinal) ? TinyImageTokenId : LlavaOnevisionImageTokenId);
    }

    /// <summary>Checks every part and the couplings between them; throws <see cref="ModelConfigException"/> naming the field.</summary>
    public AgVasConfig Validate()
    {
        VisionBuilder.Validate(Vision);
        try
        {
            Llm.Validate();
            Lora.Validate();
        }
        catch (ArgumentException e)
        {
            var field = e.Message.Split(':')[0];
            throw new ModelConfigException(field, e.Message[(field.Length + 1)..].Trim());
        }
        if (Vision.Projector.OutputSize != Llm.HiddenSize)
            throw new ModelConfigException("Vision.Projector.OutputSize", $"{Vision.Projector.OutputSize} must equal Llm.HiddenSize = {Llm.HiddenSize}");
        if (Vision.Spam.SemanticDim != Llm.HiddenSize || Vision.Spam.Dim != Llm.HiddenSize)
            throw new ModelConfigException("Vision.Spam.Dim", $"SPAM widths must equal Llm.HiddenSize = {Llm.HiddenSize}");
        if (Vision.TokenRefiner.InputDim != Llm.HiddenSize)
            throw new ModelConfigException("Vision.TokenRefiner.InputDim", $"{Vision.TokenRefiner.InputDim} must equal Llm.HiddenSize = {Llm.HiddenSize}");
        if (ImageTokenId < 0 || ImageTokenId >= Llm.VocabSize)
            throw new ModelConfigException("ImageTokenId", $"{ImageTokenId} is outside the vocabulary 0..{Llm.VocabSize - 1}");
        return this;
    }

    /// <summary>JSON options of the model directory's agvas_config.json (enums by name).</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Settings that older model directories still carry and that no longer configure the model: the loss
    /// weights moved to the training configuration's LossWeights (models/agvas-tiny has them).</summary>
    private static readonly HashSet<string> RetiredSettings = ["Vision.Loss.BceWeight", "Vision.Loss.DiceWeight", "Vision.Loss.HardBceWeight"];

    /// <summary>The first key path of <paramref name="given"/> that the parsed configuration does not write back
    /// (<paramref name="known"/>), other than <see cref="RetiredSettings"/>: a setting that would be silently ignored.</summary>
    private static string? UnknownSetting(JsonNode? given, JsonNode? known, string prefix)
    {
        if (given is not JsonObject g) return null;
        foreach (var (key, value) in g)
        {
            string path = prefix + key;
            if (RetiredSettings.Contains(path)) continue;
            if (known is not JsonObject k || !k.TryGetPropertyValue(key, out var kv)) return path;
            if (UnknownSetting(value, kv, path + ".") is { } inner) return inner;
        }
        return null;
    }

    /// <summary>Parses agvas_config.json text; <paramref name="source"/> names it in errors.</summary>
    public static AgVasConfig FromJson(string json, string source)
    {
        try
        {
            var config = JsonSerializer.Deserialize<AgVasConfig>(json, JsonOptions)
                ?? throw new Checkpoints.CheckpointException(source, "empty configuration");
            if (UnknownSetting(JsonNode.Parse(json), JsonNode.Parse(config.ToJson()), "") is { } unknown)
                throw new Checkpoints.CheckpointException(source, $"unknown setting '{unknown}' (misspelt, or from another version?)");
            return config;
        }
        catch (JsonException e) { throw new Checkpoints.CheckpointException(source, "malformed configuration: " + e.Message); }
        catch (NotSupportedException e) { throw new Checkpoints.CheckpointException(source, "unsupported configuration: " + e.Message); }
    }
}
