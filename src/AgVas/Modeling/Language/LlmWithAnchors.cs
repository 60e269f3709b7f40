using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AgVas.Modeling;

/// <summary>The LLM with its vocabulary expanded by the three anchor tokens (docs/design.md §4): ids V, V+1, V+2 (V = the
/// base vocab_size) are <see cref="Anchors.Tokens"/>.
/// AG-VAS: the new rows live in a separate small module (<c>added_tokens.embed_tokens</c> [A, D] and, when the base head
/// is untied, <c>added_tokens.lm_head</c> [A, D]) instead of resized base matrices, so the frozen base embedding and
/// head stay frozen as whole tensors and only the A new rows train — no gradient masking, and the base weights keep
/// the shapes of the public checkpoint. With a tied base head the new output rows are the new embedding rows.</summary>
public sealed class LlmWithAnchors : nn.Module, ILlmCausal
{
    private readonly Qwen2ForCausalLM language_model;
    private readonly LlmAddedTokens added_tokens;

    public LlmWithAnchors(string name, Qwen2Config config, LoraConfig? lora, Device? device = null) : base(name)
    {
        language_model = new Qwen2ForCausalLM("language_model", config, lora, device);
        added_tokens = new LlmAddedTokens("added_tokens", Anchors.Count, config.HiddenSize, !config.TieWordEmbeddings, device);
        RegisterComponents();
    }

    public Qwen2ForCausalLM LanguageModel => language_model;
    public LlmAddedTokens AddedTokens => added_tokens;
    public Qwen2Config Config => language_model.Config;
    /// <summary>V + A.</summary>
    public int VocabSize => Config.VocabSize + Anchors.Count;
    /// <summary>Id of anchor <paramref name="i"/> in answer order (<see cref="Anchors.NorIndex"/>, <see cref="Anchors.AnoIndex"/>, <see cref="Anchors.SegIndex"/>).</summary>
    public int AnchorId(int i) => Config.VocabSize + i;

    /// <summary>ids [B, T] in [0, V + A) → [B, T, D]: base rows for ids below V, anchor rows above.</summary>
    public Tensor Embed(Tensor ids)
    {
        using var scope = NewDisposeScope();
        long v = Config.VocabSize;
        using Scalar firstAdded = v, zero = 0, lastAnchor = Anchors.Count - 1;
        var isAdded = ids.ge(firstAdded);                                                    // [B, T]
        var baseIds = ids.masked_fill(isAdded, zero);                                        // [B, T]
        var addedIds = ids.sub(firstAdded).clamp(zero, lastAnchor);                          // [B, T]
        var baseEmb = language_model.Embed(baseIds);                                         // [B, T, D]
        var addedEmb = added_tokens.EmbedWeight.index_select(0, addedIds.flatten()).view(ids.shape[0], ids.shape[1], -1); // [B, T, D]
        return where(isAdded.unsqueeze(-1), addedEmb, baseEmb).MoveToOuterDisposeScope();   // [B, T, D]
    }

    public Tensor Hidden(Tensor inputsEmbeds, Tensor? attentionMask, Tensor? positionIds, Qwen2KvCache? cache) =>
        language_model.Hidden(inputsEmbeds, attentionMask, positionIds, cache);

    /// <summary>hidden [B, T, D] → logits [B, T, V + A].</summary>
    public Tensor Logits(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        var baseLogits = language_model.Logits(hidden);                                      // [B, T, V]
        var addedLogits = nn.functional.linear(hidden, added_tokens.HeadWeight);             // [B, T, A]
        return cat([baseLogits, addedLogits], dim: -1).MoveToOuterDisposeScope();            // [B, T, V + A]
    }

    public Qwen2KvCache NewCache() => language_model.NewCache();

    /// <summary>L_txt: mean next-token cross-entropy over the target tokens (docs/design.md §7: answer tokens, anchors
    /// included). Logits are computed only at the positions that predict a target, not over the whole sequence.</summary>
    /// <param name="hidden">[B, S, D] last-layer states of a teacher-forced pass.</param>
    /// <param name="ids">[B, S] token ids.</param>
    /// <param name="targets">[B, S] bool, true where the token is a target (never at position 0).</param>
    /// <returns>Scalar loss.</returns>
    public Tensor TextLoss(Tensor hidden, Tensor ids, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var predicting = hidden[.., ..^1];                                                   // [B, S-1, D]
        var next = ids[.., 1..];                                                             // [B, S-1]
        var isTarget = targets[.., 1..];                                                     // [B, S-1]
        var states = predicting[isTarget];                                                   // [K, D]
        var labels = next[isTarget];                                                         // [K]
        var logits = Logits(states.unsqueeze(0)).squeeze(0);                                 // [K, V + A]
        return nn.functional.cross_entropy(logits, labels).MoveToOuterDisposeScope();
    }
}

/// <summary>The trainable rows of the added tokens: <c>embed_tokens</c> [A, D] and, for an untied head, <c>lm_head</c> [A, D].
/// Initialised N(0, 0.02) like the base rows (see <see cref="LlmWithAnchors"/>).</summary>
public sealed class LlmAddedTokens : nn.Module
{
    private readonly Parameter embed_tokens;
    private readonly Parameter? lm_head;

    public LlmAddedTokens(string name, int count, int hiddenSize, bool untiedHead, Device? device = null) : base(name)
    {
        embed_tokens = new Parameter(empty(count, hiddenSize, device: device));
        nn.init.normal_(embed_tokens, 0, 0.02);
        if (untiedHead)
        {
            lm_head = new Parameter(empty(count, hiddenSize, device: device));
            nn.init.normal_(lm_head, 0, 0.02);
        }
        RegisterComponents();
    }

    public Parameter EmbedWeight => embed_tokens;
    public Parameter HeadWeight => lm_head ?? embed_tokens;
}
