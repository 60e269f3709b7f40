using static TorchSharp.torch;

namespace AgVas.Modeling;

/// <summary>A batch of LLM inputs of AG-VAS (docs/design.md §3.4): in each row the image placeholder id is replaced by the visual
/// tokens [f_s ; f_align], so the row reads [text before ; f_s ; f_align ; text after]. Rows are left-padded to a common
/// length S (generation appends on the right). Owns its tensors.</summary>
public sealed class LlmInput : IDisposable
{
    /// <summary>Marks visual and padding positions in <see cref="Ids"/>.</summary>
    public const long NoToken = -1;

    private LlmInput(Tensor embeds, Tensor mask, Tensor ids, Tensor targets)
    {
        Embeds = embeds;
        Mask = mask;
        Ids = ids;
        Targets = targets;
    }

    /// <summary>[B, S, D] input embeddings.</summary>
    public Tensor Embeds { get; }
    /// <summary>[B, S] int64: 1 for real positions (text and visual), 0 for padding.</summary>
    public Tensor Mask { get; }
    /// <summary>[B, S] int64: token ids, <see cref="NoToken"/> at visual and padding positions.</summary>
    public Tensor Ids { get; }
    /// <summary>[B, S] bool: answer tokens that L_txt is computed on (all false for inference prompts).</summary>
    public Tensor Targets { get; }

    /// <param name="llm">Embeds the text ids (anchors included).</param>
    /// <param name="ids">Per row, the token ids with exactly one <paramref name="imageTokenId"/>.</param>
    /// <param name="isTarget">Per row, the training-target flag of each id (null for inference).</param>
    /// <param name="visual">[B, N_v, D]: f_s then f_align of each image (N_v = 2·N_s).</param>
    public static LlmInput Build(ILlmCausal llm, IReadOnlyList<int[]> ids, IReadOnlyList<bool[]>? isTarget, int imageTokenId, Tensor visual)
    {
        int b = ids.Count;
        if (visual.shape[0] != b) throw new ArgumentException($"visual batch {visual.shape[0]} != {b} text rows");
        long nv = visual.shape[1], d = visual.shape[2];
        var rowLengths = new long[b];
        var placeholder = new int[b];
        for (int r = 0; r < b; r++)
        {
            int count = ids[r].Count(t => t == imageTokenId);
            if (count != 1) throw new ArgumentException($"row {r}: expected one image placeholder (id {imageTokenId}), found {count}");
            if (isTarget is not null && isTarget[r].Length != ids[r].Length) throw new ArgumentException($"row {r}: target flags and ids differ in length");
            placeholder[r] = Array.IndexOf(ids[r], imageTokenId);
            rowLengths[r] = ids[r].Length - 1 + nv;
        }
        long s = rowLengths.Max();
        using var scope = NewDisposeScope();
        var device = visual.device;
        var rows = new List<Tensor>();
        var idRows = new long[b * s];
        var targetRows = new bool[b * s];
        var maskRows = new long[b * s];
        for (int r = 0; r < b; r++)
        {
            long pad = s - rowLengths[r];
            int p = placeholder[r];
            var before = ids[r][..p];
            var after = ids[r][(p + 1)..];
            var parts = new List<Tensor> { zeros(pad, d, dtype: visual.dtype, device: device) };              // [pad, D]
            if (before.Length > 0) parts.Add(llm.Embed(TextIds(before, device)).squeeze(0));                   // [a, D]
            parts.Add(visual[r]);                                                                                // [N_v, D]
            if (after.Length > 0) parts.Add(llm.Embed(TextIds(after, device)).squeeze(0));                     // [c, D]
            rows.Add(cat(parts, dim: 0));                                                                         // [S, D]
            long o = r * s;
            for (long i = 0; i < s; i++) idRows[o + i] = NoToken;
            for (long i = pad; i < s; i++) maskRows[o + i] = 1;
            for (int i = 0; i < before.Length; i++) idRows[o + pad + i] = before[i];
            for (int i = 0; i < after.Length; i++) idRows[o + pad + p + nv + i] = after[i];
            if (isTarget is not null)
                for (int i = 0; i < after.Length; i++) targetRows[o + pad + p + nv + i] = isTarget[r][p + 1 + i];
        }
        var embeds = stack(rows, dim: 0);                                                                         // [B, S, D]
        var mask = tensor(maskRows, dtype: ScalarType.Int64, device: device).view(b, s);                         // [B, S]
        var idTensor = tensor(idRows, dtype: ScalarType.Int64, device: device).view(b, s);                       // [B, S]
        var targets = tensor(targetRows, device: device).view(b, s);                                             // [B, S]
        return new LlmInput(embeds.DetachFromDisposeScope(), mask.DetachFromDisposeScope(),
            idTensor.DetachFromDisposeScope(), targets.DetachFromDisposeScope());
    }

    private static Tensor TextIds(int[] ids, Device device) =>
        tensor(ids.Select(i => (long)i).ToArray(), dtype: ScalarType.Int64, device: device).unsqueeze(0);       // [1, n]

    public void Dispose()
    {
        Embeds.Dispose();
        Mask.Dispose();
        Ids.Dispose();
        Targets.Dispose();
    }
}
