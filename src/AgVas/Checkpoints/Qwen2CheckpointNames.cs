namespace AgVas.Checkpoints;

/// <summary>Where a Qwen2 LLM's tensors sit in a checkpoint. Our module names are those of Hugging Face's
/// <c>Qwen2ForCausalLM</c> (<c>model.…</c>, <c>lm_head.weight</c>).</summary>
public enum Qwen2Layout
{
    /// <summary>A plain Qwen2 checkpoint: <c>model.layers.N…</c>, <c>lm_head.weight</c>.</summary>
    Qwen2,
    /// <summary>LLaVA-OneVision-hf as first published (transformers &lt; 4.52): <c>language_model.model.…</c>,
    /// <c>language_model.lm_head.weight</c>.</summary>
    LlavaLegacy,
    /// <summary>LLaVA-OneVision-hf as saved by current transformers: <c>model.language_model.…</c>, <c>lm_head.weight</c>.</summary>
    LlavaCurrent,
}

/// <summary>Maps our Qwen2 parameter names to and from the three checkpoint layouts.</summary>
public static class Qwen2CheckpointNames
{
    /// <summary>Detects the layout from the tensor names present; null when no Qwen2 tensor is found.</summary>
    public static Qwen2Layout? Detect(IEnumerable<string> names)
    {
        Qwen2Layout? found = null;
        foreach (var n in names)
        {
            if (n.StartsWith("language_model.model.", StringComparison.Ordinal)) return Qwen2Layout.LlavaLegacy;
            if (n.StartsWith("model.language_model.", StringComparison.Ordinal)) return Qwen2Layout.LlavaCurrent;
            if (n.StartsWith("model.layers.", StringComparison.Ordinal) || n == "model.embed_tokens.weight") found = Qwen2Layout.Qwen2;
        }
        return found;
    }

    /// <summary>Our name (<c>model.X</c> or <c>lm_head.weight</c>) → the checkpoint's.</summary>
    public static string ToCheckpoint(string ours, Qwen2Layout layout) => layout switch
    {
        Qwen2Layout.Qwen2 => ours,
        Qwen2Layout.LlavaLegacy => "language_model." + ours,
        Qwen2Layout.LlavaCurrent => ours.StartsWith("model.", StringComparison.Ordinal) ? "model.language_model." + ours["model.".Length..] : ours,
        _ => throw new ArgumentOutOfRangeException(nameof(layout)),
    };

    /// <summary>True when a checkpoint tensor belongs to the LLM in this layout (so an unmatched one is unexpected).</summary>
    public static bool IsLlmTensor(string name, Qwen2Layout layout) => layout switch
    {
        Qwen2Layout.Qwen2 => name.StartsWith("model.", StringComparison.Ordinal) || name.StartsWith("lm_head.", StringComparison.Ordinal),
        Qwen2Layout.LlavaLegacy => name.StartsWith("language_model.", StringComparison.Ordinal),
        Qwen2Layout.LlavaCurrent => name.StartsWith("model.language_model.", StringComparison.Ordinal) || name.StartsWith("lm_head.", StringComparison.Ordinal),
        _ => false,
    };
}
