using AgVas.Modeling;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AgVas.Checkpoints;

/// <summary>Loads the pretrained weights of a <see cref="Qwen2ForCausalLM"/> from a Hugging Face checkpoint in any
/// <see cref="Qwen2Layout"/>. Strict: every missing, mis-shaped or unexpected LLM tensor is reported at once, before any
/// weight is copied. LoRA adapters are not part of public checkpoints and keep their initial values.</summary>
public static class Qwen2Checkpoint
{
    private const int MaxListedProblems = 12;

    /// <returns>The layout found.</returns>
    public static Qwen2Layout Load(Qwen2ForCausalLM lm, TensorSource source)
    {
        var layout = Qwen2CheckpointNames.Detect(source.Names) ?? throw new CheckpointException(source.Path,
            "no Qwen2 tensors found (expected model.layers.*, language_model.model.* or model.language_model.*)");
        var adapter = lm.AdapterParameters().ToHashSet(ReferenceEqualityComparer.Instance);
        var plan = new List<(string Checkpoint, Parameter Parameter)>();
        var problems = new List<string>();
        foreach (var (name, parameter) in lm.named_parameters())
        {
            if (adapter.Contains(parameter)) continue;
            var ck = Qwen2CheckpointNames.ToCheckpoint(name, layout);
            if (!source.Contains(ck))
            {
                problems.Add($"missing {ck}");
                continue;
            }
            var shape = source.Shape(ck);
            if (!shape.SequenceEqual(parameter.shape))
            {
                problems.Add($"{ck} has shape [{string.Join(", ", shape)}], expected [{string.Join(", ", parameter.shape)}]");
                continue;
            }
            plan.Add((ck, parameter));
        }
        var used = plan.Select(p => p.Checkpoint).ToHashSet(StringComparer.Ordinal);
        var tiedHead = Qwen2CheckpointNames.ToCheckpoint("lm_head.weight", layout);
        foreach (var name in source.Names.Order(StringComparer.Ordinal))
        {
            if (used.Contains(name) || !Qwen2CheckpointNames.IsLlmTensor(name, layout)) continue;
            if (lm.Config.TieWordEmbeddings && name == tiedHead) continue;          // a tied head may be saved redundantly
            if (name.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal)) continue;   // derived, old exports keep it
            if (problems.Any(p => p.StartsWith(name + " has shape", StringComparison.Ordinal))) continue;
            problems.Add($"unexpected {name}");
        }
        if (problems.Count > 0)
            throw new CheckpointException(source.Path, $"{problems.Count} problem(s) with the LLM tensors ({layout} layout, " +
                $"config hidden {lm.Config.HiddenSize}, {lm.Config.NumHiddenLayers} layers, vocab {lm.Config.VocabSize}, " +
                $"tied {lm.Config.TieWordEmbeddings}): " + string.Join("; ", problems.Take(MaxListedProblems)) +
                (problems.Count > MaxListedProblems ? $"; and {problems.Count - MaxListedProblems} more" : ""));

        using var guard = no_grad();
        foreach (var (ck, parameter) in plan)
        {
            using var t = source.Load(ck);
            parameter.copy_(t);                                                     // casts bf16/fp16 → the model dtype
        }
        return layout;
    }
}
