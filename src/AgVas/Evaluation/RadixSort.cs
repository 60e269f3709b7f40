namespace AgVas.Evaluation;

/// <summary>LSD radix sort of 64-bit keys by their high 32 bits (8-bit digits, stable, O(n)).</summary>
internal static class RadixSort
{
    private const int Digits = 4;
    private const int Buckets = 256;

    /// <summary>
    /// Sorts <paramref name="keys"/> ascending by the high 32 bits; the result may be a different array (ping-pong
    /// buffer), hence <c>ref</c>. Returns how many keys have low half 0 and reports the largest low half.
    /// </summary>
    public static long SortByHigh32(ref ulong[] keys, out uint maxLow)
    {
        int n = keys.Length;
        var counts = new long[Digits * Buckets];
        long zeros = 0;
        uint max = 0;
        foreach (var k in keys)
        {
            uint high = (uint)(k >> 32), low = (uint)k;
            counts[high & 0xFF]++;
            counts[Buckets + (high >> 8 & 0xFF)]++;
            counts[2 * Buckets + (high >> 16 & 0xFF)]++;
            counts[3 * Buckets + (high >> 24)]++;
            if (low == 0) zeros++;
            if (low > max) max = low;
        }
        maxLow = max;
        ulong[]? buffer = null;
        var src = keys;
        var offsets = new int[Buckets];
        for (int d = 0; d < Digits; d++)
        {
            var count = counts.AsSpan(d * Buckets, Buckets);
            if (count.Contains(n)) continue; // every key has the same digit: the pass would not move anything
            buffer ??= GC.AllocateUninitializedArray<ulong>(n);
            var dst = ReferenceEquals(src, keys) ? buffer : keys;
            int sum = 0;
            for (int b = 0; b < Buckets; b++)
            {
                offsets[b] = sum;
                sum += (int)count[b];
            }
            int shift = 32 + 8 * d;
            for (int i = 0; i < n; i++)
            {
                ulong k = src[i];
                dst[offsets[(int)(k >> shift) & 0xFF]++] = k;
            }
            src = dst;
        }
        keys = src;
        return zeros;
    }
}
