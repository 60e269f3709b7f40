using static TorchSharp.torch;

namespace AgVas.Context;

/// <summary>Few-shot context (#16, after PatchCore): a memory of normal patch descriptors, one bank per neighbourhood
/// size, and a patch's score is its distance to the nearest normal patch, averaged over the sizes.</summary>
/// <param name="MaxPatches">bank size above which it is subsampled by a greedy coreset (k-centre)</param>
/// <param name="ProjectionDim">random projection used only to pick the coreset (the bank keeps full descriptors)</param>
/// <param name="DihedralUpTo">a category with at most this many reference images (0: none) also enters each of them in
/// its 7 other quarter turns and mirror images (<see cref="Data.RgbImage.DihedralViews"/>), so that a part lying at
/// another angle than its few references still finds its look-alikes. Chosen on dev, k = 1 (docs/design.md §11): context
/// alone AP / AUPRO 31.5 / 68.0 → 35.2 / 70.7, fused 55.0 / 77.9 → 56.1 / 78.3; held-out hazelnut fused AP 81.6 → 82.3.
/// Bounded because each view costs the descriptors of an image while the memory is built (about 4.7 MB at 256 px), and
/// many references already vary by themselves.</param>
public sealed record NormalMemoryConfig(int MaxPatches = 16384, int ProjectionDim = 128, int DihedralUpTo = 8)
{
    public void Validate()
    {
        if (MaxPatches < 1) throw new ArgumentException($"normal memory size must be ≥ 1, got {MaxPatches}");
        if (ProjectionDim < 1) throw new ArgumentException($"coreset projection must be ≥ 1, got {ProjectionDim}");
        if (DihedralUpTo < 0) throw new ArgumentException($"the dihedral-view limit must be ≥ 0, got {DihedralUpTo}");
    }
}

/// <summary>The normal patches of one category. Built once from k ≥ 1 reference images, reused for any number of
/// images, thread-safe to score with. Owns its tensor.</summary>
public sealed class NormalMemory : IDisposable
{
    private readonly Tensor bank;                                                                   // [R, K, C]

    /// <summary>Images the memory was built from.</summary>
    public int ReferenceCount { get; }

    /// <summary>Patches kept per neighbourhood size (after the coreset).</summary>
    public long Patches => bank.shape[1];

    private NormalMemory(Tensor bank, int references)
    {
        this.bank = bank;
        ReferenceCount = references;
    }

    /// <summary>Builds the memory from reference descriptors (which stay the caller's).</summary>
    /// <param name="images">reference images behind <paramref name="references"/> (default: one per descriptor set; fewer
    /// when several sets are views of one image)</param>
    public static NormalMemory Build(IReadOnlyList<PatchDescriptors> references, NormalMemoryConfig config, int seed = 0, int? images = null)
    {
        if (references.Count == 0) throw new ArgumentException("a normal memory needs at least one reference image");
        config.Validate();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var all = cat(references.Select(r => r.Features).ToArray(), 1);                             // [R, ΣN, C]
        if (all.shape[1] > config.MaxPatches)
        {
            var keep = Coreset(all, config, seed);                                                  // [MaxPatches]
            all = all.index_select(1, keep);                                                        // [R, MaxPatches, C]
        }
        return new NormalMemory(all.contiguous().MoveToOuterDisposeScope(), images ?? references.Count);
    }

    /// <summary>Greedy k-centre coreset (Sener &amp; Savarese 2018, as PatchCore uses it) on the descriptors of all
    /// radii concatenated and randomly projected; starts from a seeded random patch.</summary>
    /// <returns>[MaxPatches] indices into the bank</returns>
    internal static Tensor Coreset(Tensor all, NormalMemoryConfig config, int seed)
    {
        using var scope = NewDisposeScope();
        long r = all.shape[0], n = all.shape[1], c = all.shape[2];
        var flat = all.permute(1, 0, 2).reshape(n, r * c);                                          // [N, R·C]
        var generator = new Generator((ulong)seed);
        var projection = randn([r * c, Math.Min(config.ProjectionDim, r * c)], generator: generator); // [R·C, P]
        var z = flat.matmul(projection);                                                            // [N, P]
        var picked = new long[config.MaxPatches];
        picked[0] = randint(n, [1], generator: generator).item<long>();
        var minDist = (z - z[picked[0]]).pow(2).sum(1);                                             // [N]
        for (int k = 1; k < picked.Length; k++)
        {
            picked[k] = minDist.argmax().item<long>();
            using var d = (z - z[picked[k]]).pow(2).sum(1);                                         // [N]
            minDist = minimum(minDist, d);
        }
        return tensor(picked).MoveToOuterDisposeScope();
    }

    /// <summary>Distance of each patch to its nearest normal patch, averaged over the radii.</summary>
    /// <param name="target">[R, N, C] descriptors of the scored image</param>
    /// <returns>[N]</returns>
    public Tensor Score(PatchDescriptors target)
    {
        if (target.Features.shape[0] != bank.shape[0])
            throw new ArgumentException($"the image has descriptors for {target.Features.shape[0]} radii, the memory for {bank.shape[0]}");
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        const long chunk = 8192;                                                                    // bounds the [R, N, chunk] product
        Tensor? best = null;
        for (long start = 0; start < bank.shape[1]; start += chunk)
        {
            var part = bank.narrow(1, start, Math.Min(chunk, bank.shape[1] - start));                 // [R, ≤chunk, C]
            var cos = target.Features.bmm(part.transpose(1, 2)).amax([2]);                          // [R, N]
            best = best is null ? cos : maximum(best, cos);
        }
        return MutualScoring.CosToDistance(best!).mean([0]).MoveToOuterDisposeScope();             // [N]
    }

    public void Dispose() => bank.Dispose();
}
