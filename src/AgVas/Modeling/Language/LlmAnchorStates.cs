using static TorchSharp.torch;

namespace AgVas.Modeling;

/// <summary>Finds the last-layer hidden states of the anchors (docs/design.md §4). Convention (LISA's, ours): the state of an
/// anchor is the hidden state at the position <b>before</b> the anchor token — the state whose logits predict it — and,
/// if an anchor occurs more than once, its last occurrence counts. Training (teacher-forced pass) and inference
/// (generation, whose <see cref="Inference.GenerationResult.Hidden"/> holds the state of every fed position) both call
/// <see cref="Select"/>, so the convention is written once.</summary>
public static class LlmAnchorStates
{
    /// <param name="hidden">[B, L, D] last-layer states; position t predicts token t + 1.</param>
    /// <param name="ids">[B, S] token ids with S ≥ L (positions beyond L are tokens never fed, such as the last one).</param>
    /// <param name="anchorIds">The A anchor ids in output order.</param>
    /// <returns>[B, A, D].</returns>
    public static Tensor Select(Tensor hidden, Tensor ids, IReadOnlyList<int> anchorIds)
    {
        long b = hidden.shape[0], l = hidden.shape[1];
        var positions = Positions(ids, anchorIds);
        using var scope = NewDisposeScope();
        var flat = new long[b * anchorIds.Count];
        for (int r = 0; r < b; r++)
            for (int a = 0; a < anchorIds.Count; a++)
            {
                long p = positions[r, a];
                if (p < 1) throw new ArgumentException($"row {r}: anchor id {anchorIds[a]} not found (or at position 0)");
                if (p - 1 >= l) throw new ArgumentException($"row {r}: anchor at {p} has no predicting state (hidden length {l})");
                flat[r * anchorIds.Count + a] = p - 1;
            }
        var index = tensor(flat, dtype: ScalarType.Int64, device: hidden.device).view(b, anchorIds.Count, 1)    // [B, A, 1]
            .expand(b, anchorIds.Count, hidden.shape[2]);                                                        // [B, A, D]
        return hidden.gather(1, index).MoveToOuterDisposeScope();                                                // [B, A, D]
    }

    /// <summary>Position of the last occurrence of each anchor in each row, −1 when absent. ids [B, S] → [B, A].</summary>
    public static long[,] Positions(Tensor ids, IReadOnlyList<int> anchorIds)
    {
        long b = ids.shape[0], s = ids.shape[1];
        var data = ids.to_type(ScalarType.Int64).cpu().data<long>().ToArray();
        var result = new long[b, anchorIds.Count];
        for (int r = 0; r < b; r++)
            for (int a = 0; a < anchorIds.Count; a++)
            {
                result[r, a] = -1;
                for (long t = s - 1; t >= 0; t--)
                    if (data[r * s + t] == anchorIds[a]) { result[r, a] = t; break; }
            }
        return result;
    }
}
