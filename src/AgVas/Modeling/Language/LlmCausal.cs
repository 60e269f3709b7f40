using static TorchSharp.torch;

namespace AgVas.Modeling;

/// <summary>What greedy generation needs from a causal language model: embeddings, last hidden states (optionally
/// incremental with a KV cache) and the output head. Implemented by <see cref="Qwen2ForCausalLM"/> and by
/// <see cref="LlmWithAnchors"/> (Qwen2 plus the three anchor rows).</summary>
public interface ILlmCausal
{
    /// <summary>Vocabulary size of <see cref="Logits"/>.</summary>
    int VocabSize { get; }
    /// <summary>ids [B, T] → [B, T, D].</summary>
    Tensor Embed(Tensor ids);
    /// <summary>inputsEmbeds [B, T, D] → last-layer hidden states [B, T, D].</summary>
    Tensor Hidden(Tensor inputsEmbeds, Tensor? attentionMask, Tensor? positionIds, Qwen2KvCache? cache);
    /// <summary>hidden [B, T, D] → logits [B, T, V].</summary>
    Tensor Logits(Tensor hidden);
    Qwen2KvCache NewCache();
}
