namespace AgVas.Evaluation;

/// <summary>
/// The pooled scores of one category sorted once, from which every threshold metric is swept in one pass.
/// Each pixel is a 64-bit key: the score's order-preserving bits in the high half, its ground-truth region id in the
/// low half (0 = normal pixel, k &gt; 0 = anomalous pixel of region k). Keys are sorted with an LSD radix sort on the
/// high half (exact and stable; ties stay together), then <see cref="Sweep"/> walks them from the highest score down,
/// emitting one <see cref="CurveStep"/> per distinct score.
/// </summary>
public sealed class ScoreRanking
{
    private const int StepBlock = 4096;
    private readonly ulong[] _keys;
    private readonly int _count;
    private readonly double[] _regionWeight;

    public CurveTotals Totals { get; }

    private ScoreRanking(ulong[] keys, int count, double[] regionWeight, CurveTotals totals)
    {
        _keys = keys;
        _count = count;
        _regionWeight = regionWeight;
        Totals = totals;
    }

    /// <summary>Packs a finite score and a region id (0 for a normal pixel) into a sortable key.</summary>
    public static ulong Pack(float score, uint region) => (ulong)OrderedBits(score) << 32 | region;

    /// <summary>Maps a float to an unsigned integer with the same order (-0 and +0 map to the same value).</summary>
    public static uint OrderedBits(float score)
    {
        uint bits = BitConverter.SingleToUInt32Bits(score == 0f ? 0f : score);
        return (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
    }

    /// <summary>The inverse of <see cref="OrderedBits"/>.</summary>
    public static float FromOrderedBits(uint key) =>
        BitConverter.UInt32BitsToSingle((key & 0x8000_0000u) != 0 ? key & 0x7FFF_FFFFu : ~key);

    /// <summary>
    /// Sorts packed keys (taking ownership of the array). <paramref name="regionWeights"/>[k] is 1 / (pixels of region k);
    /// index 0 is unused. Every region id in the keys must index it.
    /// </summary>
    public static ScoreRanking Sort(ulong[] keys, double[] regionWeights)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return Sort(keys, keys.Length, regionWeights, null);
    }

    /// <summary>
    /// Sorts the first <paramref name="count"/> keys, using <paramref name="buffer"/> (null: allocated) as the radix
    /// sort's second array; the ranking keeps whichever of the two arrays holds the result.
    /// </summary>
    internal static ScoreRanking Sort(ulong[] keys, int count, double[] regionWeights, ulong[]? buffer)
    {
        ArgumentNullException.ThrowIfNull(regionWeights);
        if (regionWeights.Length == 0) throw new ArgumentException("regionWeights needs at least the unused entry 0", nameof(regionWeights));
        buffer ??= GC.AllocateUninitializedArray<ulong>(count);
        bool inBuffer = RadixSort.SortByHigh32(keys.AsSpan(0, count), buffer, out long negatives, out uint maxRegion);
        if (maxRegion >= regionWeights.Length)
            throw new ArgumentException($"region id {maxRegion} has no weight (only {regionWeights.Length - 1} regions)", nameof(keys));
        return new ScoreRanking(inBuffer ? buffer : keys, count, regionWeights, new CurveTotals(count - negatives, negatives, regionWeights.Length - 1));
    }

    /// <summary>Ranks plain scores with binary labels (all positives form one region, so PRO equals recall).</summary>
    public static ScoreRanking FromScores(ReadOnlySpan<float> scores, ReadOnlySpan<bool> labels)
    {
        if (scores.Length != labels.Length) throw new ArgumentException($"{scores.Length} scores but {labels.Length} labels");
        var keys = GC.AllocateUninitializedArray<ulong>(scores.Length);
        long positives = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            if (!float.IsFinite(scores[i])) throw new ArgumentException($"score {i} is {scores[i]}; scores must be finite", nameof(scores));
            keys[i] = Pack(scores[i], labels[i] ? 1u : 0u);
            if (labels[i]) positives++;
        }
        return Sort(keys, positives > 0 ? [0, 1.0 / positives] : [0]);
    }

    /// <summary>Walks the distinct scores from the highest down and feeds each metric the cumulative counts.</summary>
    public void Sweep(params ICurveMetric[] metrics)
    {
        var block = new CurveStep[StepBlock];
        int filled = 0;
        long tp = 0, fp = 0;
        double overlap = 0;
        var keys = _keys;
        var weight = _regionWeight;
        int i = _count - 1;
        while (i >= 0)
        {
            uint score = (uint)(keys[i] >> 32);
            do
            {
                uint region = (uint)keys[i];
                if (region == 0) fp++;
                else
                {
                    tp++;
                    overlap += weight[region];
                }
                i--;
            }
            while (i >= 0 && (uint)(keys[i] >> 32) == score);
            block[filled++] = new CurveStep(FromOrderedBits(score), tp, fp, overlap);
            if (filled == StepBlock)
            {
                foreach (var m in metrics) m.Update(block);
                filled = 0;
            }
        }
        if (filled > 0)
            foreach (var m in metrics) m.Update(block.AsSpan(0, filled));
    }
}
