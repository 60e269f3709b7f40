namespace AgVas.Evaluation;

/// <summary>
/// LSD radix sort of 64-bit keys by their high 32 bits: three stable passes of 11, 11 and 10 bits (2048 buckets keep
/// the histogram in L1 and the scatter streams few enough for the TLB), a pass skipped when all keys share its digit.
/// </summary>
internal static class RadixSort
{
    private static readonly (int Shift, int Bits)[] Digits = [(32, 11), (43, 11), (54, 10)];
    private const int Buckets = 1 << 11;

    /// <summary>
    /// Sorts <paramref name="keys"/> ascending by the high 32 bits, ping-ponging with <paramref name="buffer"/> (at least
    /// as long); returns true if the sorted keys ended up in the buffer. Also counts the keys whose low half is 0 and
    /// finds the largest low half.
    /// </summary>
    public static bool SortByHigh32(Span<ulong> keys, Span<ulong> buffer, out long zeroLows, out uint maxLow)
    {
        int n = keys.Length;
        if (buffer.Length < n) throw new ArgumentException($"buffer of {buffer.Length} for {n} keys", nameof(buffer));
        buffer = buffer[..n];
        var counts = new int[Digits.Length * Buckets];
        long zeros = 0;
        uint max = 0;
        foreach (var k in keys)
        {
            uint high = (uint)(k >> 32), low = (uint)k;
            counts[high & 0x7FF]++;
            counts[Buckets + (high >> 11 & 0x7FF)]++;
            counts[2 * Buckets + (high >> 22)]++;
            if (low == 0) zeros++;
            if (low > max) max = low;
        }
        zeroLows = zeros;
        maxLow = max;
        bool inBuffer = false;
        var offsets = new int[Buckets];
        for (int d = 0; d < Digits.Length; d++)
        {
            var (shift, bits) = Digits[d];
            var count = counts.AsSpan(d * Buckets, 1 << bits);
            if (count.Contains(n)) continue; // every key has the same digit: the pass would not move anything
            var src = inBuffer ? buffer : keys;
            var dst = inBuffer ? keys : buffer;
            int sum = 0;
            for (int b = 0; b < count.Length; b++)
            {
                offsets[b] = sum;
                sum += count[b];
            }
            int mask = (1 << bits) - 1;
            for (int i = 0; i < n; i++)
            {
                ulong k = src[i];
                dst[offsets[(int)(k >> shift) & mask]++] = k;
            }
            inBuffer = !inBuffer;
        }
        return inBuffer;
    }
}
