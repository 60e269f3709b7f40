using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Context;

/// <summary>
/// Batch context (#16, after MuSc, ICLR 2024; our own code): the images of one category score each other, with no
/// training and no label. A patch of image i gets, from each reference image j, its distance to the nearest patch of j
/// (per neighbourhood size r); normal patches find close look-alikes in most other images, a defect in few. The patch's
/// score is the mean of its lowest <see cref="LowestFraction"/> of those distances, averaged over r. A patch of j in
/// <see cref="PatchDescriptors.Excluded"/> (e.g. inside j's own AG-VAS mask) is no candidate: a defect that recurs across
/// the category is not excused by the others' defects.
/// <para>Cost is bounded: each image is compared with at most <see cref="MaxReferences"/> others, its neighbours in the
/// category's order (M/2 before and M/2 after, cyclically), so time grows linearly with N. Each pair's distance matrix
/// serves both directions, and at most M + 1 images' descriptors are held at a time, so memory stays flat. An image's
/// nearest distances go into one buffer allocated with its descriptors, not into a small tensor per pair: those, kept
/// while every pair's large distance matrix came and went, fragmented the native heap (N = 100 at M = 64: 5.3 GiB peak).</para>
/// </summary>
/// <param name="MaxReferences">M: the most other images one image is compared with (even)</param>
/// <param name="LowestFraction">the fraction of the lowest per-reference distances averaged into a patch's score</param>
public sealed record MutualScoringConfig(int MaxReferences = 16, double LowestFraction = 0.3)
{
    public void Validate()
    {
        if (MaxReferences < 2 || MaxReferences % 2 != 0 || MaxReferences > 1024)
            throw new ArgumentException($"context max references must be an even number in [2, 1024], got {MaxReferences}");
        if (LowestFraction is <= 0 or > 1) throw new ArgumentException($"context lowest fraction must be in (0, 1], got {LowestFraction}");
    }
}

public static class MutualScoring
{
    /// <summary>The pairs (i, j), i &lt; j as owned by i in processing order, that a category of <paramref name="n"/> images compares:
    /// all pairs when n − 1 ≤ M, else each i with i + 1 … i + M/2 (mod n), so every image has exactly M references.</summary>
    public static IReadOnlyList<(int Owner, int Other)> Pairs(int n, int maxReferences)
    {
        var pairs = new List<(int, int)>();
        if (n - 1 <= maxReferences)
        {
            for (int i = 0; i < n; i++)
                for (int j = i + 1; j < n; j++) pairs.Add((i, j));
            return pairs;
        }
        for (int i = 0; i < n; i++)
            for (int d = 1; d <= maxReferences / 2; d++) pairs.Add((i, (i + d) % n));
        return pairs;
    }

    /// <summary>
    /// Scores every image of one category against the others. <paramref name="describe"/> computes image k's descriptors
    /// (once per image: they are kept until the image's last pair, then disposed);
    /// <paramref name="emit"/> receives image k's grid scores [h·w] (owned by the callee) as soon as its references are
    /// all seen: in index order except the first M/2 images, which complete last.
    /// </summary>
    /// <param name="n">images in the category (n ≥ 2)</param>
    public static void ScoreCategory(int n, Func<int, PatchDescriptors> describe, Action<int, PatchDescriptors, Tensor> emit,
        MutualScoringConfig config, Action? pairDone = null)
    {
        foreach (var (k, descriptors, scores) in Stream(n, describe, config, pairDone)) emit(k, descriptors, scores);
    }

    /// <summary>
    /// <see cref="ScoreCategory"/> as a lazy sequence: image k's descriptors and grid scores [h·w] come out as soon as its
    /// references are all seen, and both are disposed when the enumeration moves on (copy what must outlive that).
    /// Abandoning the enumeration disposes everything still held.
    /// </summary>
    /// <param name="n">images in the category (n ≥ 2)</param>
    public static IEnumerable<(int Index, PatchDescriptors Descriptors, Tensor Scores)> Stream(int n, Func<int, PatchDescriptors> describe,
        MutualScoringConfig config, Action? pairDone = null)
    {
        if (n < 2) throw new ArgumentException($"mutual scoring needs at least 2 images, got {n}");
        config.Validate();
        return StreamCore(n, describe, config, pairDone);
    }

    private static IEnumerable<(int, PatchDescriptors, Tensor)> StreamCore(int n, Func<int, PatchDescriptors> describe,
        MutualScoringConfig config, Action? pairDone)
    {
        var pairs = Pairs(n, config.MaxReferences);
        var remaining = new int[n];
        foreach (var (a, b) in pairs) { remaining[a]++; remaining[b]++; }
        var descriptors = new Dictionary<int, PatchDescriptors>();
        var distances = new Dictionary<int, Tensor>();                  // image → [references, R, N] nearest distances
        var complete = new List<int>(2);
        PatchDescriptors Get(int k)
        {
            if (descriptors.TryGetValue(k, out var d)) return d;
            descriptors[k] = d = describe(k);
            distances[k] = empty(remaining[k], d.Features.shape[0], d.Features.shape[1]);       // [references, R, N]
            return d;
        }
        void Add(int k, Tensor dist)
        {
            var all = distances[k];
            using (var row = all[all.shape[0] - remaining[k]]) row.copy_(dist);                     // [R, N]
            dist.Dispose();
            if (--remaining[k] == 0) complete.Add(k);
        }
        try
        {
            foreach (var (a, b) in pairs)
            {
                using (no_grad())
                {
                    var (da, db) = (Get(a), Get(b));
                    var (ab, ba) = NearestDistances(da.Features, db.Features, da.Excluded, db.Excluded);
                    Add(a, ab);
                    Add(b, ba);
                }
                pairDone?.Invoke();
                foreach (int k in complete)
                {
                    var descriptor = descriptors[k];
                    var perReference = distances[k];
                    using (var scores = Aggregate(perReference, config.LowestFraction))
                        yield return (k, descriptor, scores);
                    perReference.Dispose();
                    distances.Remove(k);
                    descriptors.Remove(k);
                    descriptor.Dispose();
                }
                complete.Clear();
            }
        }
        finally
        {
            foreach (var d in descriptors.Values) d.Dispose();
            foreach (var t in distances.Values) t.Dispose();
        }
    }

    /// <summary>Nearest-patch distances both ways between two images' descriptors.</summary>
    /// <param name="a">[R, N_a, C] unit-length descriptors</param>
    /// <param name="b">[R, N_b, C]</param>
    /// <param name="excludedA">[N_a] bool: patches of a that are no look-alike candidates for b's patches (null: none)</param>
    /// <param name="excludedB">[N_b] bool: the same for b</param>
    /// <returns>([R, N_a] distance of each patch of a to its nearest candidate patch of b, [R, N_b] the reverse)</returns>
    public static (Tensor AtoB, Tensor BtoA) NearestDistances(Tensor a, Tensor b, Tensor? excludedA = null, Tensor? excludedB = null)
    {
        using var scope = NewDisposeScope();
        using Scalar minusOne = -1;                                                                 // the least cosine: distance 2
        var cos = a.bmm(b.transpose(1, 2));                                                         // [R, N_a, N_b]
        var ab = CosToDistance((excludedB is null ? cos : cos.masked_fill(excludedB.reshape(1, 1, -1), minusOne)).amax([2])); // [R, N_a]
        var ba = CosToDistance((excludedA is null ? cos : cos.masked_fill(excludedA.reshape(1, -1, 1), minusOne)).amax([1])); // [R, N_b]
        return (ab.MoveToOuterDisposeScope(), ba.MoveToOuterDisposeScope());
    }

    /// <summary>Unit vectors: ‖x − y‖ = √(2 − 2·cos).</summary>
    internal static Tensor CosToDistance(Tensor cos)
    {
        using Scalar two = 2, minusTwo = -2, one = 1, zero = 0;
        return cos.mul(minusTwo).add(two, one).clamp_min(zero).sqrt();
    }

    /// <summary>Per-reference distances → patch scores: mean of the lowest ⌈fraction·M⌉ over references, then mean over r.</summary>
    /// <param name="perReference">[M, R, N]: the distances to each of M references</param>
    /// <returns>[N]</returns>
    public static Tensor Aggregate(Tensor perReference, double lowestFraction)
    {
        using var scope = NewDisposeScope();
        int m = (int)perReference.shape[0];
        int keep = Math.Clamp((int)Math.Ceiling(lowestFraction * m), 1, m);
        var lowest = perReference.sort(dim: 0).Values[..keep];                                      // [keep, R, N]
        return lowest.mean([0, 1]).MoveToOuterDisposeScope();                                       // [N]
    }
}
