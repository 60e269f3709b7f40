using AgVas.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Inference;

/// <summary>Options of greedy decoding.</summary>
public sealed record GenerationOptions
{
    /// <summary>Maximum number of generated tokens per row (the stop token not counted).</summary>
    public int MaxNewTokens { get; init; } = 128;
    /// <summary>Ids that end a row (e.g. &lt;|im_end|&gt;, &lt;|endoftext|&gt;); never part of the output.</summary>
    public IReadOnlyList<int> StopIds { get; init; } = [];
    /// <summary>Ids that must all appear in an answer. When a row would stop (or run out of room) without all of them,
    /// <see cref="ForcedSuffix"/> is emitted instead and the row ends; the row is flagged as forced.</summary>
    public IReadOnlyList<int> RequiredIds { get; init; } = [];
    /// <summary>The tokens appended to a row that lacks a required id (AG-VAS: " " + <see cref="Anchors.Suffix"/>).</summary>
    public IReadOnlyList<int> ForcedSuffix { get; init; } = [];
    /// <summary>Incremental decoding with a KV cache (true) or a full pass over the whole sequence at every step.</summary>
    public bool UseCache { get; init; } = true;
    /// <summary>Fed to rows that have ended while others go on; their outputs are discarded.</summary>
    public int PadId { get; init; }

    /// <summary>Returns these options, or throws naming the first invalid field.</summary>
    public GenerationOptions Validate()
    {
        if (MaxNewTokens <= 0) throw new ArgumentException($"GenerationOptions.MaxNewTokens: must be positive, got {MaxNewTokens}");
        if (RequiredIds.Count > 0 && ForcedSuffix.Count == 0)
            throw new ArgumentException("GenerationOptions.ForcedSuffix: required when RequiredIds is set");
        if (ForcedSuffix.Count > MaxNewTokens)
            throw new ArgumentException($"GenerationOptions.MaxNewTokens: {MaxNewTokens} leaves no room for the {ForcedSuffix.Count}-token forced suffix");
        return this;
    }
}

/// <summary>Output of <see cref="Generation.Greedy"/>. Disposing frees <see cref="Hidden"/>.</summary>
public sealed class GenerationResult : IDisposable
{
    internal GenerationResult(int[][] tokens, bool[] forced, Tensor hidden, int promptLength)
    {
        Tokens = tokens;
        Forced = forced;
        Hidden = hidden;
        PromptLength = promptLength;
    }

    /// <summary>Generated ids of each row, without the stop token.</summary>
    public IReadOnlyList<int[]> Tokens { get; }
    /// <summary>Per row: true when the required ids were missing and the forced suffix was appended.</summary>
    public IReadOnlyList<bool> Forced { get; }
    /// <summary>Last-layer hidden states [B, P + N_fed, D] of every position fed to the model: the P prompt positions, then
    /// generated token j at index P + j. The state that predicted generated token j (LISA's anchor convention) is at
    /// index P + j − 1.</summary>
    public Tensor Hidden { get; }
    /// <summary>P, the (left-padded) prompt length.</summary>
    public int PromptLength { get; }

    /// <summary>Disposes the hidden states.</summary>
    public void Dispose() => Hidden.Dispose();
}

/// <summary>Greedy decoding with an optional KV cache for any <see cref="ILlmCausal"/>, on prompts given as embeddings
/// (so visual tokens can be spliced in) with left padding in batches.</summary>
public static class Generation
{
    /// <param name="lm">The model; it should be in eval mode.</param>
    /// <param name="promptEmbeds">[B, P, D], left-padded.</param>
    /// <param name="promptMask">[B, P], 1 for real positions, 0 for padding; null means all real.</param>
    /// <param name="options">Token budget, stop ids, the anchors required and the suffix forced without them.</param>
    public static GenerationResult Greedy(ILlmCausal lm, Tensor promptEmbeds, Tensor? promptMask, GenerationOptions options)
    {
        options.Validate();
        using var guard = no_grad();
        using var scope = NewDisposeScope();
        long b = promptEmbeds.shape[0], p = promptEmbeds.shape[1];
        var device = promptEmbeds.device;
        using Scalar one = 1, zero = 0, maxPosition = long.MaxValue;
        var mask = promptMask?.to(ScalarType.Int64) ?? ones(b, p, dtype: ScalarType.Int64, device: device); // [B, P]
        var positions = mask.cumsum(1, ScalarType.Int64).sub_(one).clamp_(zero, maxPosition);               // [B, P]
        using var cache = options.UseCache ? lm.NewCache() : null;
        var hidden = lm.Hidden(promptEmbeds, mask, positions, cache);                                         // [B, P, D]
        var hiddens = new List<Tensor> { hidden };
        var allEmbeds = promptEmbeds;
        var allPositions = positions;
        var logits = lm.Logits(hidden[.., ^1..]);                                                             // [B, 1, V]

        var rows = Enumerable.Range(0, (int)b).Select(_ => new RowState()).ToArray();
        var stop = options.StopIds.ToHashSet();
        for (int step = 0; step < options.MaxNewTokens; step++)
        {
            var choice = logits[.., -1].argmax(-1).cpu().data<long>().ToArray();                             // [B]
            var fed = new long[b];
            for (int r = 0; r < b; r++) fed[r] = rows[r].Next((int)choice[r], options, stop, options.MaxNewTokens - step);
            // The last chosen token needs no forward pass: its predicting state is already in hand.
            if (rows.All(row => row.Done) || step == options.MaxNewTokens - 1) break;

            using var stepScope = NewDisposeScope();
            var ids = tensor(fed, dtype: ScalarType.Int64, device: device).unsqueeze(1);                       // [B, 1]
            var embeds = lm.Embed(ids);                                                                       // [B, 1, D]
            mask = cat([mask, ones(b, 1, dtype: ScalarType.Int64, device: device)], dim: 1).MoveToOuterDisposeScope(); // [B, S]
            var nextPos = allPositions[.., ^1..].add(one, one);                                              // [B, 1]
            allPositions = cat([allPositions, nextPos], dim: 1).MoveToOuterDisposeScope();                   // [B, S]
            Tensor h;
            if (cache is not null)
                h = lm.Hidden(embeds, mask, nextPos, cache);                                                  // [B, 1, D]
            else
            {
                allEmbeds = cat([allEmbeds, embeds], dim: 1).MoveToOuterDisposeScope();                      // [B, S, D]
                h = lm.Hidden(allEmbeds, mask, allPositions, null)[.., ^1..];                                 // [B, 1, D]
            }
            hiddens.Add(h.MoveToOuterDisposeScope());
            logits = lm.Logits(h).MoveToOuterDisposeScope();                                                  // [B, 1, V]
        }
        var allHidden = cat(hiddens, dim: 1).MoveToOuterDisposeScope();                                       // [B, P + N_fed, D]
        return new GenerationResult(rows.Select(r => r.Tokens.ToArray()).ToArray(), rows.Select(r => r.Forced).ToArray(),
            allHidden, (int)p);
    }

    /// <summary>Per-row decoding state: greedy choice, stop handling and the forced anchor suffix.</summary>
    private sealed class RowState
    {
        public readonly List<int> Tokens = [];
        private readonly Queue<int> forcedQueue = new();
        public bool Done { get; private set; }
        public bool Forced { get; private set; }

        /// <summary>Decides this row's token and returns the id to feed (the pad id once the row has ended).</summary>
        public long Next(int greedy, GenerationOptions options, HashSet<int> stop, int remaining)
        {
            if (Done) return options.PadId;
            int token;
            if (forcedQueue.Count > 0) token = forcedQueue.Dequeue();
            else
            {
                token = greedy;
                bool missing = options.RequiredIds.Any(id => !Tokens.Contains(id) && id != token);
                bool wouldStop = stop.Contains(token);
                bool noRoom = remaining <= options.ForcedSuffix.Count && options.RequiredIds.Any(id => !Tokens.Contains(id) && id != token);
                if (options.RequiredIds.Count > 0 && ((wouldStop && missing) || noRoom))
                {
                    Forced = true;
                    foreach (var id in options.ForcedSuffix) forcedQueue.Enqueue(id);
                    token = forcedQueue.Dequeue();
                }
            }
            if (stop.Contains(token))
            {
                Done = true;
                return options.PadId;
            }
            Tokens.Add(token);
            if (Forced && forcedQueue.Count == 0) Done = true;
            return token;
        }
    }
}
