using System.Text.Json;
using System.Text.Json.Nodes;
using AgVas.Checkpoints;
using AgVas.Modeling;
using AgVas.Text;
using static TorchSharp.torch;

namespace AgVas.Tests.Checkpoints;

/// <summary>Writes tiny random LLaVA-OneVision-hf checkpoints in the public layouts: config.json with text_config,
/// tokenizer.json, LLM tensors named as in the layout, plus a few vision tensors the language loader must ignore.</summary>
internal static class LlavaOnevisionTinyCheckpoint
{
    /// <summary>Id of &lt;image&gt; in the tiny tokenizer.</summary>
    public const int ImageTokenId = 509;

    public static Qwen2ForCausalLM Write(string dir, Qwen2Layout layout, Qwen2Config config, long? maxShardBytes = null,
        ScalarType dtype = ScalarType.Float32, int seed = 21)
    {
        Directory.CreateDirectory(dir);
        manual_seed(seed);
        var lm = new Qwen2ForCausalLM("lm", config);
        var text = JsonSerializer.SerializeToNode(config)!.AsObject();
        text["model_type"] = "qwen2";
        text["architectures"] = new JsonArray("Qwen2ForCausalLM");
        var root = new JsonObject
        {
            ["architectures"] = new JsonArray("LlavaOnevisionForConditionalGeneration"),
            ["model_type"] = "llava_onevision",
            ["image_token_index"] = ImageTokenId,
            ["video_token_index"] = ImageTokenId + 1,
            ["text_config"] = text,
            ["vision_config"] = new JsonObject { ["hidden_size"] = 32, ["model_type"] = "siglip_vision_model" },
            ["vision_feature_select_strategy"] = "full",
        };
        File.WriteAllText(Path.Combine(dir, "config.json"), root.ToJsonString());
        Qwen2Tokenizer.Tiny().Save(Path.Combine(dir, "tokenizer.json"));

        var tensors = lm.state_dict()
            .Select(kv => new KeyValuePair<string, Tensor>(Qwen2CheckpointNames.ToCheckpoint(kv.Key, layout), kv.Value.to_type(dtype)))
            .ToList();
        string visionPrefix = layout == Qwen2Layout.LlavaCurrent ? "model." : "";
        tensors.Add(new(visionPrefix + "vision_tower.vision_model.post_layernorm.weight", ones(32).to_type(dtype)));
        tensors.Add(new(visionPrefix + "multi_modal_projector.linear_1.weight", ones(config.HiddenSize, 32).to_type(dtype)));
        tensors.Add(new(visionPrefix + "image_newline", zeros(config.HiddenSize).to_type(dtype)));
        if (maxShardBytes is long max) SafeTensors.WriteSharded(dir, tensors, max);
        else SafeTensors.Write(Path.Combine(dir, "model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        foreach (var kv in tensors) kv.Value.Dispose();
        return lm;
    }
}
