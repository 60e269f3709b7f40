using AgVas.Context;
using AgVas.Data;
using AgVas.Inference;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Tests.Context;

/// <summary>Batch (mutual) and few-shot (normal memory) context scoring of #16 on hand-made descriptors, and the
/// descriptors of a real image on the package's ResNet-18.</summary>
public sealed class ContextScoringTests
{
    /// <summary>n images of N unit descriptors (C = 4), all "normal" (the same few directions plus noise), and a
    /// defect: patch <paramref name="defectPatch"/> of image <paramref name="defectImage"/> points elsewhere.</summary>
    private static PatchDescriptors Synthetic(int image, int defectImage, int defectPatch, int n = 16)
    {
        var g = new Generator((ulong)(100 + image));
        var basis = eye(4)[..3];                                                                    // 3 normal directions
        var idx = arange(n) % 3;
        var f = basis.index_select(0, idx) + 0.05 * randn([n, 4], generator: g);                   // [N, 4]
        if (image == defectImage) f[defectPatch] = tensor(new float[] { 0, 0, 0, 1 });
        f = nn.functional.normalize(f, dim: 1);
        return new PatchDescriptors(stack([f, f], 0), 4, n / 4, 4, n / 4);                         // R = 2
    }

    [Theory]
    [InlineData(5, 16)]
    [InlineData(17, 16)]
    [InlineData(40, 8)]
    public void EveryImageHasMinOfMAndNMinusOneDistinctReferences(int n, int m)
    {
        var pairs = MutualScoring.Pairs(n, m);
        Assert.All(pairs, p => Assert.NotEqual(p.Owner, p.Other));
        Assert.Equal(pairs.Count, pairs.Select(p => (Math.Min(p.Owner, p.Other), Math.Max(p.Owner, p.Other))).Distinct().Count());
        for (int k = 0; k < n; k++)
            Assert.Equal(Math.Min(m, n - 1), pairs.Count(p => p.Owner == k || p.Other == k));
        Assert.Equal(n - 1 <= m ? n * (n - 1) / 2 : n * m / 2, pairs.Count);                      // linear in n beyond M
    }

    /// <summary>Each patch's distance to its nearest candidate of the other image, both ways, against brute force; an
    /// excluded patch is no candidate for the other image's patches and is still scored itself.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void NearestDistancesMatchBruteForceOverTheCandidates(bool exclude)
    {
        using var scope = NewDisposeScope();
        var g = new Generator(7);
        var a = nn.functional.normalize(randn([2, 5, 6], generator: g), dim: 2);
        var b = nn.functional.normalize(randn([2, 7, 6], generator: g), dim: 2);
        bool[] exA = exclude ? [false, true, false, false, true] : new bool[5];
        bool[] exB = exclude ? [true, false, false, true, false, false, true] : new bool[7];
        var (ab, ba) = exclude ? MutualScoring.NearestDistances(a, b, tensor(exA), tensor(exB)) : MutualScoring.NearestDistances(a, b);
        for (int r = 0; r < 2; r++)
        {
            for (int i = 0; i < 5; i++)                                                             // every patch of a, excluded or not
                Assert.Equal(Enumerable.Range(0, 7).Where(j => !exB[j]).Min(j => (a[r, i] - b[r, j]).norm().item<float>()), ab[r, i].item<float>(), 4);
            for (int j = 0; j < 7; j++)
                Assert.Equal(Enumerable.Range(0, 5).Where(i => !exA[i]).Min(i => (a[r, i] - b[r, j]).norm().item<float>()), ba[r, j].item<float>(), 4);
        }
    }

    [Fact]
    public void AggregateAveragesTheLowestFractionOverReferencesThenRadii()
    {
        using var scope = NewDisposeScope();
        // 4 references, R = 1, N = 1: distances 0.9, 0.1, 0.5, 0.3 → lowest half {0.1, 0.3} → 0.2
        var perReference = tensor(new[] { 0.9f, 0.1f, 0.5f, 0.3f }).view(4, 1, 1);              // [M, R, N]
        Assert.Equal(0.2f, MutualScoring.Aggregate(perReference, 0.5)[0].item<float>(), 5);
        Assert.Equal(0.1f, MutualScoring.Aggregate(perReference, 0.01)[0].item<float>(), 5);        // at least one
    }

    /// <summary>A defect that recurs in every image (the same odd direction at patch 5) finds its look-alikes in the
    /// other images and scores like a normal patch; with each image's own defect patch excluded from the others'
    /// candidates it scores highest again.</summary>
    [Fact]
    public void ARecurringDefectIsExcusedUnlessEachImagesMarkedPatchesAreExcluded()
    {
        const int n = 6, defect = 5;
        float[][] Score(bool exclude)
        {
            var scores = new float[n][];
            MutualScoring.ScoreCategory(n, k =>
            {
                var d = Synthetic(k, k, defect) with { ImageHeight = 32, ImageWidth = 32 };         // every image holds the defect; 4×4 cells of 8 px
                if (!exclude) return d;
                var marked = new BinaryMask(32, 32);
                marked.Data[12 * 32 + 9] = true;                                                     // (x 9, y 12): cell (1, 1), patch 5
                return d.WithExcluded(marked, 32);
            }, (k, _, s) => scores[k] = s.data<float>().ToArray(), new MutualScoringConfig(4));
            return scores;
        }
        foreach (var s in Score(exclude: false))
            Assert.True(s[defect] < 0.2f, $"without exclusion the recurring defect scores {s[defect]}");
        foreach (var s in Score(exclude: true))
            Assert.True(s[defect] > 2 * s.Where((_, i) => i != defect).Max(), $"defect {s[defect]} vs {s.Where((_, i) => i != defect).Max()}");
    }

    /// <summary>The mask → grid geometry of <see cref="PatchDescriptors.WithExcluded"/>: a cell covers 8×8 pixels of the
    /// resized image and one masked pixel excludes it; a mask over every cell, or none, excludes nothing.</summary>
    [Fact]
    public void MaskedPixelsExcludeTheirGridCells()
    {
        // 128×64 at size 64: resized to 64×32, valid grid 4 × 8.
        PatchDescriptors Plain() => new(zeros(1, 32, PatchDescriptors.Channels), 4, 8, 64, 128);
        var mask = new BinaryMask(128, 64);
        mask.Data[20 * 128 + 40] = true;                                                            // (x 40, y 20) → resized (20, 10) → cell (1, 2)
        mask.Data[63 * 128 + 127] = true;                                                           // the last pixel → cell (3, 7)
        using var d = Plain().WithExcluded(mask, 64);
        var excluded = d.Excluded!.data<bool>().ToArray();
        Assert.Equal(32, excluded.Length);
        Assert.Equal([1 * 8 + 2, 3 * 8 + 7], Enumerable.Range(0, 32).Where(i => excluded[i]));
        using var none = Plain().WithExcluded(new BinaryMask(128, 64), 64);
        Assert.Null(none.Excluded);
        using var all = Plain().WithExcluded(new BinaryMask(128, 64, Enumerable.Repeat(true, 128 * 64).ToArray()), 64);
        Assert.Null(all.Excluded);
        using var plain = Plain();
        var error = Assert.Throws<ArgumentException>(() => plain.WithExcluded(new BinaryMask(64, 64), 64));
        Assert.Contains("64×64", error.Message);
    }

    [Theory]
    [InlineData(6, 16)]
    [InlineData(30, 6)]
    public void TheDefectPatchScoresHighestWithBoundedMemory(int n, int m)
    {
        const int defectImage = 3, defectPatch = 5;
        var created = new List<PatchDescriptors>();
        int maxAlive = 0;
        var scores = new Dictionary<int, float[]>();
        MutualScoring.ScoreCategory(n, k =>
        {
            var d = Synthetic(k, defectImage, defectPatch);
            created.Add(d);
            maxAlive = Math.Max(maxAlive, created.Count(c => !c.Features.IsInvalid));
            return d;
        }, (k, d, s) => scores.Add(k, s.data<float>().ToArray()), new MutualScoringConfig(m));

        Assert.Equal(n, created.Count);                                                            // each described once
        Assert.All(created, d => Assert.True(d.Features.IsInvalid));                               // and released
        Assert.True(maxAlive <= m + 1, $"{maxAlive} descriptors held at once, M = {m}");
        Assert.Equal(n, scores.Count);
        float defect = scores[defectImage][defectPatch];
        float otherMax = scores.SelectMany(kv => kv.Value.Select((v, i) => (kv.Key, i, v))).Where(t => t.Key != defectImage || t.i != defectPatch).Max(t => t.v);
        Assert.True(defect > 2 * otherMax, $"defect {defect} vs the highest normal patch {otherMax}");
    }

    [Fact]
    public void OneImageIsAnError() =>
        Assert.Throws<ArgumentException>(() => MutualScoring.ScoreCategory(1, _ => throw new InvalidOperationException(), (_, _, _) => { }, new()));

    [Fact]
    public void NormalMemoryFromOneReferenceFindsTheDefect()
    {
        using var reference = Synthetic(0, -1, 0);
        using var target = Synthetic(1, 1, 5);
        using var memory = NormalMemory.Build([reference], new NormalMemoryConfig());
        Assert.Equal(1, memory.ReferenceCount);
        using var s = memory.Score(target);
        var v = s.data<float>().ToArray();
        Assert.Equal(5, Array.IndexOf(v, v.Max()));
        Assert.True(v[5] > 2 * v.Where((_, i) => i != 5).Max());
    }

    [Fact]
    public void DihedralViewsAreTheEightTurnsAndMirrorsOfTheImage()
    {
        // 3×2 image, pixel value = 10·(row·3 + column) + channel, so every pixel is distinct.
        var image = new RgbImage(3, 2, [.. Enumerable.Range(0, 18).Select(i => (byte)(10 * (i / 3) + i % 3))]);
        byte At(RgbImage m, int x, int y) => m.Pixels[(y * m.Width + x) * 3];
        var turned = image.RotateClockwise();                                                       // 2 wide, 3 high
        Assert.Equal((2, 3), (turned.Width, turned.Height));
        Assert.Equal(At(image, 0, 1), At(turned, 0, 0));                                            // bottom-left goes to top-left
        Assert.Equal(At(image, 0, 0), At(turned, 1, 0));
        Assert.Equal(At(image, 2, 1), At(turned, 0, 2));
        Assert.Equal(At(image, 2, 0), At(image.FlipHorizontal(), 0, 0));
        var views = image.DihedralViews().ToList();
        Assert.Equal(8, views.Count);
        Assert.Same(image, views[0]);
        Assert.Equal(8, views.Select(v => Convert.ToHexString(v.Pixels) + v.Width).Distinct().Count());
        Assert.Equal(image.Pixels, turned.RotateClockwise().RotateClockwise().RotateClockwise().Pixels);
    }

    /// <summary>A reference lying at another angle: with the dihedral views in the memory, the turned image of the
    /// reference itself finds all its patches (distance ≈ 0); without them it does not.</summary>
    [Fact]
    public void AReferenceSetWithDihedralViewsRecognisesItsReferenceTurned()
    {
        var dir = Directory.CreateTempSubdirectory("agvas-dihedral-").FullName;
        try
        {
            var reference = Path.Combine(dir, "part", "good.png");
            Directory.CreateDirectory(Path.GetDirectoryName(reference)!);
            var image = new RgbImage(64, 64);
            var g = new Random(5);
            for (int y = 0; y < 64; y++)
                for (int x = 0; x < 64; x++)
                    for (int c = 0; c < 3; c++) image.Pixels[(y * 64 + x) * 3 + c] = (byte)(x < 40 && y < 24 ? 220 : 40 + g.Next(30) + 2 * x); // an L-shaped bright corner on a gradient
            ImageIO.SaveRgbPng(image, reference);
            var descriptors = new PatchDescriptorConfig(64);
            float Worst(ReferenceSet set)
            {
                using var d = PatchDescriptors.Compute(image.RotateClockwise(), descriptors);
                using var s = set.For("part")!.Score(d);
                return s.max().item<float>();
            }
            using var plain = ReferenceSet.Load(Path.Combine(dir), descriptors, new NormalMemoryConfig(DihedralUpTo: 0));
            using var augmented = ReferenceSet.Load(Path.Combine(dir), descriptors, new NormalMemoryConfig());
            Assert.Equal(1, augmented.ImageCount);
            Assert.Equal(8 * plain.For("part")!.Patches, augmented.For("part")!.Patches);
            Assert.Equal(1, augmented.For("part")!.ReferenceCount);
            Assert.True(Worst(augmented) < 1e-3f, $"augmented: {Worst(augmented)}");
            Assert.True(Worst(plain) > 0.1f, $"plain: {Worst(plain)}");
            Assert.Throws<ArgumentException>(() => new NormalMemoryConfig(DihedralUpTo: -1).Validate());
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void TheCoresetKeepsDistinctPatchesThatCoverTheBank()
    {
        var refs = Enumerable.Range(0, 4).Select(k => Synthetic(k, 2, 7)).ToList();
        using var memory = NormalMemory.Build(refs, new NormalMemoryConfig(MaxPatches: 8));
        Assert.Equal(8, memory.Patches);
        using var s = memory.Score(refs[2]);                                                       // the image holding the outlier
        Assert.True(s[5].item<float>() < 0.3f);                                                    // a normal patch is near some centre
        Assert.True(s[7].item<float>() < 1e-3f, "greedy k-centre keeps the farthest point, the outlier");
        foreach (var r in refs) r.Dispose();
    }

    [Fact]
    public void DescriptorsOfARealImageAreUnitLengthOnTheValidGrid()
    {
        // 100×50 at size 64: resized to 64×32, grid 8×4 of the padded 8×8 stride-8 grid.
        var image = new RgbImage(100, 50);
        for (int i = 0; i < image.Pixels.Length; i++) image.Pixels[i] = (byte)(i * 37 % 251);
        using var d = PatchDescriptors.Compute(image, new PatchDescriptorConfig(64, new[] { 1, 3 }));
        Assert.Equal(new long[] { 2, 4 * 8, PatchDescriptors.Channels }, d.Features.shape);
        Assert.Equal((4, 8), (d.GridHeight, d.GridWidth));
        using var norms = linalg.vector_norm(d.Features, 2, new long[] { 2 });
        Assert.True((norms - 1).abs().max().item<float>() < 1e-4f);
        using var map = d.ToImage(arange(32, dtype: ScalarType.Float32), 64);
        Assert.Equal(new long[] { 50, 100 }, map.shape);
    }

    [Theory]
    [InlineData(16, new[] { 2 })]
    [InlineData(4096, new[] { 1 })]
    public void BadConfigsAreRefused(int size, int[] radii) =>
        Assert.Throws<ArgumentException>(() => new PatchDescriptorConfig(size, radii).Validate());
}
