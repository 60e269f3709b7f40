namespace AgVas.Training;

/// <summary>
/// Counter-based randomness: every draw is a pure function of (seed, counters), mixed with SplitMix64's finaliser.
/// Nothing is carried from one draw to the next, so the random state of a run is fully given by its seed and its
/// position — which is what makes a resumed run draw exactly what the uninterrupted run would have drawn.
/// </summary>
public static class StreamRandom
{
    public static ulong Mix(ulong seed, long a, long b = 0, long c = 0)
    {
        ulong x = seed;
        x = Finalise(x + 0x9E3779B97F4A7C15UL * (ulong)(a + 1));
        x = Finalise(x + 0xBF58476D1CE4E5B9UL * (ulong)(b + 1));
        x = Finalise(x + 0x94D049BB133111EBUL * (ulong)(c + 1));
        return x;
    }

    /// <summary>A double in [0, 1).</summary>
    public static double Uniform(ulong seed, long a, long b = 0, long c = 0) => (Mix(seed, a, b, c) >> 11) * (1.0 / (1UL << 53));

    /// <summary>An integer in [0, n).</summary>
    public static int Below(int n, ulong seed, long a, long b = 0, long c = 0) => (int)(Uniform(seed, a, b, c) * n);

    /// <summary>Index i with probability weights[i] / Σ weights (weights ≥ 0, not all zero).</summary>
    public static int Weighted(IReadOnlyList<double> weights, ulong seed, long a, long b = 0, long c = 0)
    {
        double total = weights.Sum(), u = Uniform(seed, a, b, c) * total, acc = 0;
        for (int i = 0; i < weights.Count; i++)
        {
            acc += weights[i];
            if (u < acc && weights[i] > 0) return i;
        }
        for (int i = weights.Count - 1; i >= 0; i--) if (weights[i] > 0) return i;
        throw new ArgumentException("all weights are zero", nameof(weights));
    }

    private static ulong Finalise(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
