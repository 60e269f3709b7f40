namespace AgVas.Modeling;

/// <summary>Parameter counts of the language side from its configuration alone: <c>llm</c> (the Qwen2 decoder and head,
/// frozen, plus the trainable anchor rows) and <c>lora</c> (the adapters, all trainable).</summary>
public static class LlmParameterCounts
{
    public const string Llm = "llm";
    public const string Lora = "lora";

    public static IReadOnlyList<KeyValuePair<string, ParameterCount>> Compute(Qwen2Config llm, LoraConfig lora)
    {
        long d = llm.HiddenSize;
        long added = Anchors.Count * d * (llm.TieWordEmbeddings ? 1 : 2);
        return
        [
            new(Llm, new ParameterCount(llm.ParameterCount() + added, added)),
            new(Lora, new ParameterCount(LoraParameterCount(llm, lora), LoraParameterCount(llm, lora))),
        ];
    }

    /// <summary>r·(in + out) for every targeted linear layer of every decoder layer.</summary>
    public static long LoraParameterCount(Qwen2Config llm, LoraConfig lora)
    {
        long d = llm.HiddenSize, q = (long)llm.NumAttentionHeads * llm.HeadDim, kv = (long)llm.NumKeyValueHeads * llm.HeadDim, ff = llm.IntermediateSize;
        (LoraTargets Target, long In, long Out)[] linears =
        [
            (LoraTargets.QProj, d, q), (LoraTargets.KProj, d, kv), (LoraTargets.VProj, d, kv), (LoraTargets.OProj, q, d),
            (LoraTargets.GateProj, d, ff), (LoraTargets.UpProj, d, ff), (LoraTargets.DownProj, ff, d),
        ];
        long perLayer = linears.Where(l => lora.Targets.HasFlag(l.Target)).Sum(l => lora.Rank * (l.In + l.Out));
        return perLayer * llm.NumHiddenLayers;
    }
}
