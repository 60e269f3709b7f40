using AgVas.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Checkpoints;

/// <summary>
/// Loads the vision side from public Hugging Face safetensors checkpoints (single file, sharded with
/// <c>model.safetensors.index.json</c>, or a directory holding either), converting to float32.
/// <list type="bullet">
/// <item>SAM (<c>facebook/sam-vit-base/large/huge</c>, SamModel names): <c>vision_encoder.*</c> → pixel encoder, all of it;
/// <c>mask_decoder.transformer.*</c>, <c>upscale_conv1/2</c>, <c>upscale_layer_norm</c> and
/// <c>output_hypernetworks_mlps.{0,1,2}</c> → AGMD; <c>shared_image_embedding.positional_embedding</c> → the Fourier PE
/// of AGMD (and of SPAM when it uses one); <c>prompt_encoder.no_mask_embed</c> → AGMD's no-mask embedding. AGMD's
/// three output tokens are new and keep their fresh values. SAM's IoU head, IoU/mask tokens, fourth hypernetwork and
/// the rest of the prompt encoder are known and unused.</item>
/// <item>LLaVA-OneVision (<c>llava-hf/llava-onevision-qwen2-*-ov-hf</c>): <c>vision_tower.vision_model.*</c> → semantic
/// encoder, <c>multi_modal_projector.linear_{1,2}</c> → projector (also with the <c>model.</c> prefix newer
/// transformers writes); the post-layernorm and pooling head are known and unused; the language model's tensors and
/// <c>image_newline</c> belong to the language side and are not examined here.</item>
/// <item>SigLIP (<c>vision_model.*</c>) → semantic encoder.</item>
/// </list>
/// Everything is checked before anything is copied: all missing, unexpected and mis-shaped tensors are reported
/// together in one <see cref="CheckpointMismatchException"/>.
/// </summary>
public static class HuggingFaceVisionLoader
{
    public static void LoadSam(string checkpoint, VisionSide side)
    {
        using var source = TensorSource.Open(checkpoint);
        var plan = new LoadPlan(source);
        plan.Map(side.PixelEncoder, n => "vision_encoder." + n);
        plan.Map(side.Agmd, n => n switch
        {
            "output_tokens.weight" => null,
            "no_mask_embed.weight" => "prompt_encoder.no_mask_embed.weight",
            "pe_layer.positional_embedding" => "shared_image_embedding.positional_embedding",
            _ => "mask_decoder." + n,
        });
        if (side.Config.Spam.PositionalEncoding == SpamPositionalEncoding.Fourier)
            plan.Map(side.Spam, n => n == "pe_layer.positional_embedding" ? "shared_image_embedding.positional_embedding" : null);
        plan.Examine(n => n.StartsWith("vision_encoder.", StringComparison.Ordinal) || n.StartsWith("mask_decoder.", StringComparison.Ordinal)
                          || n.StartsWith("prompt_encoder.", StringComparison.Ordinal) || n.StartsWith("shared_image_embedding.", StringComparison.Ordinal),
            known: n => n.StartsWith("prompt_encoder.", StringComparison.Ordinal)
                        || n.StartsWith("mask_decoder.iou_token.", StringComparison.Ordinal)
                        || n.StartsWith("mask_decoder.mask_tokens.", StringComparison.Ordinal)
                        || n.StartsWith("mask_decoder.iou_prediction_head.", StringComparison.Ordinal)
                        || IsExtraHypernetwork(n));
        plan.Execute();
    }

    public static void LoadLlavaOnevision(string checkpoint, VisionSide side)
    {
        using var source = TensorSource.Open(checkpoint);
        bool nested = !source.Names.Any(n => n.StartsWith("vision_tower.", StringComparison.Ordinal))
                      && source.Names.Any(n => n.StartsWith("model.vision_tower.", StringComparison.Ordinal));
        string root = nested ? "model." : "";
        string tower = root + "vision_tower.vision_model.", projector = root + "multi_modal_projector.";
        var plan = new LoadPlan(source);
        plan.Map(side.SemanticEncoder, n => tower + n);
        plan.Map(side.Projector, n => projector + n);
        plan.Examine(n => n.StartsWith(tower, StringComparison.Ordinal) || n.StartsWith(projector, StringComparison.Ordinal),
            known: n => n.StartsWith(tower + "post_layernorm.", StringComparison.Ordinal) || n.StartsWith(tower + "head.", StringComparison.Ordinal));
        plan.Execute();
    }

    public static void LoadSiglip(string checkpoint, SemanticEncoder encoder)
    {
        using var source = TensorSource.Open(checkpoint);
        var plan = new LoadPlan(source);
        plan.Map(encoder, n => "vision_model." + n);
        plan.Examine(n => n.StartsWith("vision_model.", StringComparison.Ordinal),
            known: n => n.StartsWith("vision_model.post_layernorm.", StringComparison.Ordinal) || n.StartsWith("vision_model.head.", StringComparison.Ordinal));
        plan.Execute();
    }

    /// <summary>SAM's hypernetworks beyond AGMD's three (SAM has four mask tokens).</summary>
    private static bool IsExtraHypernetwork(string name)
    {
        const string prefix = "mask_decoder.output_hypernetworks_mlps.";
        if (!name.StartsWith(prefix, StringComparison.Ordinal)) return false;
        var index = name[prefix.Length..].Split('.')[0];
        return int.TryParse(index, out int i) && i >= Anchors.Count;
    }

    /// <summary>Target tensors (parameters and buffers) paired with checkpoint names, checked as a whole, then copied.</summary>
    private sealed class LoadPlan(TensorSource source)
    {
        private readonly List<(string Source, Tensor Target)> pairs = new();
        private readonly HashSet<string> consumed = new(StringComparer.Ordinal);
        private readonly List<string> missing = new();
        private readonly List<string> unexpected = new();
        private readonly List<string> misshaped = new();

        /// <param name="sourceName">the checkpoint name of each of the module's state-dict entries; null = not loaded</param>
        public void Map(nn.Module module, Func<string, string?> sourceName)
        {
            foreach (var (name, target) in module.state_dict())
            {
                if (sourceName(name) is not { } s) continue;
                consumed.Add(s);
                if (!source.Contains(s)) { missing.Add(s); continue; }
                var shape = source.Shape(s);
                if (!shape.SequenceEqual(target.shape)) { misshaped.Add($"{s}: checkpoint [{string.Join(", ", shape)}] vs model [{string.Join(", ", target.shape)}]"); continue; }
                pairs.Add((s, target));
            }
        }

        /// <summary>Reports as unexpected every checkpoint tensor in the examined scope that is neither mapped nor known.</summary>
        public void Examine(Func<string, bool> inScope, Func<string, bool> known)
        {
            foreach (var n in source.Names.Order(StringComparer.Ordinal))
                if (inScope(n) && !consumed.Contains(n) && !known(n)) unexpected.Add(n);
        }

        public void Execute()
        {
            if (missing.Count + unexpected.Count + misshaped.Count > 0)
                throw new CheckpointMismatchException(source.Path, missing, unexpected, misshaped);
            using var _ = no_grad();
            foreach (var (name, target) in pairs)
            {
                using var loaded = source.Load(name);
                using var converted = loaded.to(target.dtype);
                target.copy_(converted);
            }
        }
    }
}
