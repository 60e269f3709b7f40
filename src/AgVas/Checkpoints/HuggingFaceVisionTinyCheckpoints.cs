using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Checkpoints;

/// <summary>
/// Writes tiny random checkpoints in exactly the public Hugging Face layouts — the same tensor names (every tensor the
/// public file has, including the parts AG-VAS does not use), the same config.json keys — at tiny sizes, for tests
/// and demos. The names are spelled out here from the public layout, independently of the modules' own names, so
/// loading them checks the name maps.
/// </summary>
public static class HuggingFaceVisionTinyCheckpoints
{
    /// <summary>Scale of the random weights (a rooted Scalar: see Modeling.Scalars).</summary>
    private static readonly Scalar Scale = 0.2;

    /// <summary>A tiny <c>SamModel</c> checkpoint (config.json + model.safetensors, F32 as the public files).</summary>
    /// <param name="maxShardBytes">if given, writes sharded safetensors with an index instead of one file</param>
    public static void WriteSam(string directory, int seed = 0, long? maxShardBytes = null)
    {
        const int d = 32, layers = 2, heads = 2, mlp = 64, image = 64, patch = 8, window = 4, o = 32, decMlp = 64, decHeads = 2, iouHidden = 16;
        int[] global = [1];
        int g = image / patch, hd = d / heads;
        var gen = new Generator((ulong)seed);
        var t = new List<KeyValuePair<string, Tensor>>();
        void Add(string name, params long[] shape) => t.Add(new(name, randn(shape, generator: gen) * Scale));

        Add("vision_encoder.patch_embed.projection.weight", d, 3, patch, patch);
        Add("vision_encoder.patch_embed.projection.bias", d);
        Add("vision_encoder.pos_embed", 1, g, g, d);
        for (int i = 0; i < layers; i++)
        {
            var p = $"vision_encoder.layers.{i}.";
            int side = global.Contains(i) ? g : window;
            Add(p + "layer_norm1.weight", d); Add(p + "layer_norm1.bias", d);
            Add(p + "attn.qkv.weight", 3 * d, d); Add(p + "attn.qkv.bias", 3 * d);
            Add(p + "attn.proj.weight", d, d); Add(p + "attn.proj.bias", d);
            Add(p + "attn.rel_pos_h", 2 * side - 1, hd); Add(p + "attn.rel_pos_w", 2 * side - 1, hd);
            Add(p + "layer_norm2.weight", d); Add(p + "layer_norm2.bias", d);
            Add(p + "mlp.lin1.weight", mlp, d); Add(p + "mlp.lin1.bias", mlp);
            Add(p + "mlp.lin2.weight", d, mlp); Add(p + "mlp.lin2.bias", d);
        }
        Add("vision_encoder.neck.conv1.weight", o, d, 1, 1);
        Add("vision_encoder.neck.layer_norm1.weight", o); Add("vision_encoder.neck.layer_norm1.bias", o);
        Add("vision_encoder.neck.conv2.weight", o, o, 3, 3);
        Add("vision_encoder.neck.layer_norm2.weight", o); Add("vision_encoder.neck.layer_norm2.bias", o);

        Add("shared_image_embedding.positional_embedding", 2, o / 2);
        Add("prompt_encoder.shared_embedding.positional_embedding", 2, o / 2);
        Add("prompt_encoder.mask_embed.conv1.weight", 4, 1, 2, 2); Add("prompt_encoder.mask_embed.conv1.bias", 4);
        Add("prompt_encoder.mask_embed.layer_norm1.weight", 4); Add("prompt_encoder.mask_embed.layer_norm1.bias", 4);
        Add("prompt_encoder.mask_embed.conv2.weight", 16, 4, 2, 2); Add("prompt_encoder.mask_embed.conv2.bias", 16);
        Add("prompt_encoder.mask_embed.layer_norm2.weight", 16); Add("prompt_encoder.mask_embed.layer_norm2.bias", 16);
        Add("prompt_encoder.mask_embed.conv3.weight", o, 16, 1, 1); Add("prompt_encoder.mask_embed.conv3.bias", o);
        Add("prompt_encoder.no_mask_embed.weight", 1, o);
        for (int i = 0; i < 4; i++) Add($"prompt_encoder.point_embed.{i}.weight", 1, o);
        Add("prompt_encoder.not_a_point_embed.weight", 1, o);

        Add("mask_decoder.iou_token.weight", 1, o);
        Add("mask_decoder.mask_tokens.weight", 4, o);
        void Attention(string p, int inner)
        {
            Add(p + "q_proj.weight", inner, o); Add(p + "q_proj.bias", inner);
            Add(p + "k_proj.weight", inner, o); Add(p + "k_proj.bias", inner);
            Add(p + "v_proj.weight", inner, o); Add(p + "v_proj.bias", inner);
            Add(p + "out_proj.weight", o, inner); Add(p + "out_proj.bias", o);
        }
        for (int i = 0; i < 2; i++)
        {
            var p = $"mask_decoder.transformer.layers.{i}.";
            Attention(p + "self_attn.", o);
            Add(p + "layer_norm1.weight", o); Add(p + "layer_norm1.bias", o);
            Attention(p + "cross_attn_token_to_image.", o / 2);
            Add(p + "layer_norm2.weight", o); Add(p + "layer_norm2.bias", o);
            Add(p + "mlp.lin1.weight", decMlp, o); Add(p + "mlp.lin1.bias", decMlp);
            Add(p + "mlp.lin2.weight", o, decMlp); Add(p + "mlp.lin2.bias", o);
            Add(p + "layer_norm3.weight", o); Add(p + "layer_norm3.bias", o);
            Add(p + "layer_norm4.weight", o); Add(p + "layer_norm4.bias", o);
            Attention(p + "cross_attn_image_to_token.", o / 2);
        }
        Attention("mask_decoder.transformer.final_attn_token_to_image.", o / 2);
        Add("mask_decoder.transformer.layer_norm_final_attn.weight", o); Add("mask_decoder.transformer.layer_norm_final_attn.bias", o);
        Add("mask_decoder.upscale_conv1.weight", o, o / 4, 2, 2); Add("mask_decoder.upscale_conv1.bias", o / 4);
        Add("mask_decoder.upscale_layer_norm.weight", o / 4); Add("mask_decoder.upscale_layer_norm.bias", o / 4);
        Add("mask_decoder.upscale_conv2.weight", o / 4, o / 8, 2, 2); Add("mask_decoder.upscale_conv2.bias", o / 8);
        for (int i = 0; i < 4; i++)
        {
            var p = $"mask_decoder.output_hypernetworks_mlps.{i}.";
            Add(p + "proj_in.weight", o, o); Add(p + "proj_in.bias", o);
            Add(p + "layers.0.weight", o, o); Add(p + "layers.0.bias", o);
            Add(p + "proj_out.weight", o / 8, o); Add(p + "proj_out.bias", o / 8);
        }
        Add("mask_decoder.iou_prediction_head.proj_in.weight", iouHidden, o); Add("mask_decoder.iou_prediction_head.proj_in.bias", iouHidden);
        Add("mask_decoder.iou_prediction_head.layers.0.weight", iouHidden, iouHidden); Add("mask_decoder.iou_prediction_head.layers.0.bias", iouHidden);
        Add("mask_decoder.iou_prediction_head.proj_out.weight", 4, iouHidden); Add("mask_decoder.iou_prediction_head.proj_out.bias", 4);

        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("SamModel"),
            ["initializer_range"] = 0.02,
            ["mask_decoder_config"] = new JsonObject
            {
                ["attention_downsample_rate"] = 2, ["hidden_act"] = "relu", ["hidden_size"] = o, ["iou_head_depth"] = 3,
                ["iou_head_hidden_dim"] = iouHidden, ["layer_norm_eps"] = 1e-6, ["mlp_dim"] = decMlp, ["model_type"] = "",
                ["num_attention_heads"] = decHeads, ["num_hidden_layers"] = 2, ["num_multimask_outputs"] = 3,
            },
            ["model_type"] = "sam",
            ["prompt_encoder_config"] = new JsonObject
            {
                ["hidden_act"] = "gelu", ["hidden_size"] = o, ["image_embedding_size"] = g, ["image_size"] = image,
                ["layer_norm_eps"] = 1e-6, ["mask_input_channels"] = 16, ["model_type"] = "", ["num_point_embeddings"] = 4, ["patch_size"] = patch,
            },
            ["torch_dtype"] = "float32",
            ["vision_config"] = new JsonObject
            {
                ["dropout"] = 0.0, ["global_attn_indexes"] = new JsonArray(global.Select(i => (JsonNode)i).ToArray()), ["hidden_act"] = "gelu",
                ["hidden_size"] = d, ["image_size"] = image, ["initializer_range"] = 1e-10, ["layer_norm_eps"] = 1e-6, ["mlp_dim"] = mlp,
                ["mlp_ratio"] = (double)mlp / d, ["model_type"] = "", ["num_attention_heads"] = heads, ["num_channels"] = 3,
                ["num_hidden_layers"] = layers, ["num_pos_feats"] = o / 2, ["output_channels"] = o, ["patch_size"] = patch,
                ["qkv_bias"] = true, ["use_abs_pos"] = true, ["use_rel_pos"] = true, ["window_size"] = window,
            },
        };
        Write(directory, t, config, maxShardBytes);
    }

    /// <summary>
    /// A tiny <c>LlavaOnevisionForConditionalGeneration</c> checkpoint as the <c>llava-hf</c> repositories hold it
    /// (vision tower, projector, image_newline, a Qwen2 language model; F16), sharded with an index unless
    /// <paramref name="maxShardBytes"/> is null.
    /// </summary>
    public static void WriteLlavaOnevision(string directory, int seed = 0, long? maxShardBytes = 64 * 1024)
    {
        const int d = 32, mlp = 64, layers = 2, heads = 4, image = 32, patch = 8, llm = 48, llmHeads = 4, kvHeads = 2, llmMlp = 96, llmLayers = 2, vocab = 64;
        int n = (image / patch) * (image / patch), kv = llm / llmHeads * kvHeads;
        var gen = new Generator((ulong)seed);
        var t = new List<KeyValuePair<string, Tensor>>();
        void Add(string name, params long[] shape) => t.Add(new(name, (randn(shape, generator: gen) * Scale).to(float16)));

        const string v = "vision_tower.vision_model.";
        Add(v + "embeddings.patch_embedding.weight", d, 3, patch, patch); Add(v + "embeddings.patch_embedding.bias", d);
        Add(v + "embeddings.position_embedding.weight", n, d);
        for (int i = 0; i < layers; i++)
        {
            var p = $"{v}encoder.layers.{i}.";
            Add(p + "layer_norm1.weight", d); Add(p + "layer_norm1.bias", d);
            foreach (var proj in new[] { "q_proj", "k_proj", "v_proj", "out_proj" }) { Add(p + $"self_attn.{proj}.weight", d, d); Add(p + $"self_attn.{proj}.bias", d); }
            Add(p + "layer_norm2.weight", d); Add(p + "layer_norm2.bias", d);
            Add(p + "mlp.fc1.weight", mlp, d); Add(p + "mlp.fc1.bias", mlp);
            Add(p + "mlp.fc2.weight", d, mlp); Add(p + "mlp.fc2.bias", d);
        }
        Add(v + "post_layernorm.weight", d); Add(v + "post_layernorm.bias", d);
        Add("multi_modal_projector.linear_1.weight", llm, d); Add("multi_modal_projector.linear_1.bias", llm);
        Add("multi_modal_projector.linear_2.weight", llm, llm); Add("multi_modal_projector.linear_2.bias", llm);
        Add("image_newline", llm);
        Add("language_model.model.embed_tokens.weight", vocab, llm);
        for (int i = 0; i < llmLayers; i++)
        {
            var p = $"language_model.model.layers.{i}.";
            Add(p + "self_attn.q_proj.weight", llm, llm); Add(p + "self_attn.q_proj.bias", llm);
            Add(p + "self_attn.k_proj.weight", kv, llm); Add(p + "self_attn.k_proj.bias", kv);
            Add(p + "self_attn.v_proj.weight", kv, llm); Add(p + "self_attn.v_proj.bias", kv);
            Add(p + "self_attn.o_proj.weight", llm, llm);
            Add(p + "mlp.gate_proj.weight", llmMlp, llm); Add(p + "mlp.up_proj.weight", llmMlp, llm); Add(p + "mlp.down_proj.weight", llm, llmMlp);
            Add(p + "input_layernorm.weight", llm); Add(p + "post_attention_layernorm.weight", llm);
        }
        Add("language_model.model.norm.weight", llm);
        Add("language_model.lm_head.weight", vocab, llm);

        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("LlavaOnevisionForConditionalGeneration"),
            ["ignore_index"] = -100,
            ["image_grid_pinpoints"] = new JsonArray(new JsonArray(image, image)),
            ["image_token_index"] = vocab - 2,
            ["model_type"] = "llava_onevision",
            ["projector_hidden_act"] = "gelu",
            ["text_config"] = new JsonObject
            {
                ["architectures"] = new JsonArray("Qwen2ForCausalLM"), ["hidden_size"] = llm, ["intermediate_size"] = llmMlp,
                ["max_position_embeddings"] = 256, ["model_type"] = "qwen2", ["num_attention_heads"] = llmHeads,
                ["num_hidden_layers"] = llmLayers, ["num_key_value_heads"] = kvHeads, ["rms_norm_eps"] = 1e-6,
                ["rope_theta"] = 1000000.0, ["tie_word_embeddings"] = false, ["vocab_size"] = vocab,
            },
            ["tie_word_embeddings"] = false,
            ["torch_dtype"] = "float16",
            ["use_image_newline_parameter"] = true,
            ["video_token_index"] = vocab - 1,
            ["vision_aspect_ratio"] = "anyres_max_9",
            ["vision_config"] = new JsonObject
            {
                ["hidden_size"] = d, ["image_size"] = image, ["intermediate_size"] = mlp, ["model_type"] = "siglip_vision_model",
                ["num_attention_heads"] = heads, ["num_hidden_layers"] = layers, ["patch_size"] = patch, ["vision_use_head"] = false,
            },
            ["vision_feature_layer"] = -1,
            ["vision_feature_select_strategy"] = "full",
        };
        Write(directory, t, config, maxShardBytes);
    }

    private static void Write(string directory, List<KeyValuePair<string, Tensor>> tensors, JsonObject config, long? maxShardBytes)
    {
        try
        {
            Directory.CreateDirectory(directory);
            if (maxShardBytes is long max) SafeTensors.WriteSharded(directory, tensors, max);
            else SafeTensors.Write(Path.Combine(directory, TensorSource.SingleFileName), tensors);
            AtomicFile.WriteAllText(Path.Combine(directory, "config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
        finally
        {
            foreach (var kv in tensors) kv.Value.Dispose();
        }
    }
}
