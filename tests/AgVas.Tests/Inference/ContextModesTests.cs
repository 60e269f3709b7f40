using AgVas.Context;
using AgVas.Cli.Commands;
using AgVas.Data;
using AgVas.Inference;
using AgVas.Tests.Training;

namespace AgVas.Tests.Inference;

/// <summary>Context modes (#16): batch and few-shot scoring through <see cref="AnomalySegmenter.SegmentBatch"/>, the
/// fallbacks and their warnings, the reference-set error, fusion and determinism; on the sample photos in samples/images
/// (two categories: cookie 3 images, hazelnut 4) with the fast stand-in model.</summary>
public sealed class ContextModesTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("agvas-context-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static List<ContextItem> SampleItems() =>
        Directory.GetFiles(Repository.Path("samples/images"), "*.jpg", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(f => new ContextItem(f, Path.GetFileName(Path.GetDirectoryName(f))!, Path.GetRelativePath(Repository.Path("samples/images"), f)))
            .ToList();

    private sealed class Warnings : IProgress<ContextWarning>
    {
        public List<ContextWarning> All { get; } = [];
        public void Report(ContextWarning value) => All.Add(value);
    }

    private static void AssertFused(BatchPrediction r)
    {
        var p = r.Prediction!;
        Assert.All(p.Map, v => Assert.InRange(v, 0f, 1f));
        var rule = ContextFusionConfig.Default;
        Assert.Equal(AnomalyMask.FromMap(p.Map, p.Width, p.Height, rule.Threshold, rule.SeedThreshold).Data, p.Mask.Data);
        Assert.Equal(MaskFacts.Of(p.Mask).Verdict, p.Verdict);                                     // answer follows the fused mask
        Assert.Equal(p.Facts.RegionCount, MaskFacts.Of(p.Mask).RegionCount);
    }

    [Fact]
    public void BatchScoresEachCategoryDeterministicallyWhateverTheInputOrder()
    {
        using var segmenter = new AnomalySegmenter(new TinyConvSegmenter(2));
        var items = SampleItems();
        var results = segmenter.SegmentBatch(items, new ContextOptions { Batch = true }).ToList();
        Assert.Equal(items.Count, results.Count);
        Assert.Equal(Enumerable.Range(0, items.Count), results.Select(r => r.Index).Order());
        Assert.All(results, r => Assert.Equal(ContextSource.Batch, r.Source));
        Assert.All(results, AssertFused);

        var shuffled = items.OrderBy(i => i.ImagePath.GetHashCode(StringComparison.Ordinal) ^ 0x5a5a).Reverse().ToList();
        var again = segmenter.SegmentBatch(shuffled, new ContextOptions { Batch = true }).ToDictionary(r => r.Item.ImagePath);
        foreach (var r in results) Assert.Equal(r.Prediction!.Map, again[r.Item.ImagePath].Prediction!.Map);
    }

    /// <summary>Batch context leaves each image's own marked patches (its single-image mask) out of the others'
    /// look-alikes: the fused maps equal mutual scoring of descriptors excluded by hand, and differ from scoring without
    /// the exclusion, which <see cref="ContextOptions.ExcludeMarkedPatches"/> = false reproduces.</summary>
    [Fact]
    public void BatchContextExcludesEachImagesOwnMarkedPatchesFromTheOthersLookAlikes()
    {
        using var segmenter = new AnomalySegmenter(new MarksTheTopLeft());
        var items = SampleItems().Where(i => i.Category == "hazelnut").OrderBy(i => i.Key, StringComparer.Ordinal).ToList();
        var options = new ContextOptions { Batch = true };
        var singles = items.Select(i => segmenter.Segment(i.ImagePath)).ToList();
        float[][] Expected(bool exclude)
        {
            var maps = new float[items.Count][];
            MutualScoring.ScoreCategory(items.Count, k =>
            {
                var d = PatchDescriptors.Compute(ImageIO.LoadRgb(items[k].ImagePath), options.Descriptors);
                return exclude ? d.WithExcluded(singles[k].Mask, options.Descriptors.ImageSize) : d;
            }, (k, d, s) =>
            {
                using var map = d.ToImage(s, options.Descriptors.ImageSize);
                maps[k] = options.Fusion.Fuse(singles[k].Map, map.contiguous().data<float>().ToArray());
            }, options.Mutual);
            return maps;
        }
        var with = segmenter.SegmentBatch(items, options).OrderBy(r => r.Index).Select(r => r.Prediction!.Map).ToList();
        var without = segmenter.SegmentBatch(items, options with { ExcludeMarkedPatches = false }).OrderBy(r => r.Index).Select(r => r.Prediction!.Map).ToList();
        var (expectedWith, expectedWithout) = (Expected(true), Expected(false));
        for (int k = 0; k < items.Count; k++)
        {
            Assert.Equal(expectedWith[k], with[k]);
            Assert.Equal(expectedWithout[k], without[k]);
        }
        Assert.Contains(Enumerable.Range(0, items.Count), k => !with[k].SequenceEqual(without[k]));
    }

    /// <summary>A stand-in whose map is 1 in the image's top-left quarter and 0 elsewhere (its mask: that quarter).</summary>
    private sealed class MarksTheTopLeft : ISegmentationModel
    {
        public Prediction Predict(RgbImage image, AgVas.Text.InstructionType mode)
        {
            int w = image.Width, h = image.Height;
            var map = new float[w * h];
            for (int y = 0; y < h / 2; y++) Array.Fill(map, 1f, y * w, w / 2);
            var mask = new BinaryMask(w, h, [.. map.Select(v => v > 0.5f)]);
            return new Prediction(w, h, map, new float[w * h], map, map, mask, "", false, mode);
        }
    }

    [Fact]
    public void WithoutContextTheBatchIsExactlySingleImageSegmentation()
    {
        using var segmenter = new AnomalySegmenter(new TinyConvSegmenter(2));
        foreach (var r in segmenter.SegmentBatch(SampleItems().Take(2), new ContextOptions()))
        {
            var single = segmenter.Segment(r.Item.ImagePath);
            Assert.Equal(ContextSource.Single, r.Source);
            Assert.Equal(single.Map, r.Prediction!.Map);
            Assert.Equal(single.Mask.Data, r.Prediction.Mask.Data);
            Assert.Equal(single.Text, r.Prediction.Text);
        }
    }

    [Fact]
    public void FewShotFromOneReferenceAndFallbacksWarnNamingTheCategory()
    {
        var normals = Path.Combine(dir, "normals", "cookie");
        Directory.CreateDirectory(normals);
        File.Copy(Repository.Path("samples/images/cookie/normal-1.jpg"), Path.Combine(normals, "normal-1.jpg"));
        using var references = ReferenceSet.Load(Path.Combine(dir, "normals"));
        Assert.Equal(["cookie"], references.Categories);
        Assert.Equal(1, references.ImageCount);
        Assert.NotNull(references.For("cookie"));
        Assert.Null(references.For("hazelnut"));

        using var segmenter = new AnomalySegmenter(new TinyConvSegmenter(2));
        var items = SampleItems().Where(i => !i.ImagePath.EndsWith("normal-1.jpg", StringComparison.Ordinal)).ToList();
        var warnings = new Warnings();
        var fewShot = segmenter.SegmentBatch(items, new ContextOptions { Normals = references }, warnings: warnings).ToList();
        Assert.All(fewShot.Where(r => r.Item.Category == "cookie"), r => Assert.Equal(ContextSource.FewShot, r.Source));
        Assert.All(fewShot.Where(r => r.Item.Category == "hazelnut"), r => Assert.Equal(ContextSource.Single, r.Source));
        Assert.All(fewShot.Where(r => r.Source == ContextSource.FewShot), AssertFused);
        var warning = Assert.Single(warnings.All);
        Assert.Equal(("hazelnut", ContextSource.Single), (warning.Category, warning.FallbackTo));
        Assert.Contains("hazelnut", warning.Message);

        warnings.All.Clear();
        var withBatch = segmenter.SegmentBatch(items, new ContextOptions { Normals = references, Batch = true }, warnings: warnings).ToList();
        Assert.All(withBatch.Where(r => r.Item.Category == "hazelnut"), r => Assert.Equal(ContextSource.Batch, r.Source));
        Assert.Equal(ContextSource.Batch, Assert.Single(warnings.All).FallbackTo);
    }

    [Fact]
    public void ACategoryOfOneImageIsScoredAloneWithAWarning()
    {
        using var segmenter = new AnomalySegmenter(new TinyConvSegmenter(2));
        var items = SampleItems().Where(i => i.Category == "hazelnut").Append(new ContextItem(Repository.Path("samples/images/cookie/normal-1.jpg"), "cookie")).ToList();
        var warnings = new Warnings();
        var results = segmenter.SegmentBatch(items, new ContextOptions { Batch = true }, warnings: warnings).ToList();
        Assert.Equal(ContextSource.Single, Assert.Single(results, r => r.Item.Category == "cookie").Source);
        var warning = Assert.Single(warnings.All);
        Assert.Contains("'cookie' has one image", warning.Message);
    }

    [Fact]
    public void AReferenceSetWithoutADecodableImageIsAnErrorNamingThePath()
    {
        var normals = Path.Combine(dir, "broken-normals");
        Directory.CreateDirectory(normals);
        File.WriteAllBytes(Path.Combine(normals, "bad.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
        var e = Assert.ThrowsAny<AgVasException>(() => ReferenceSet.Load(normals));
        Assert.Contains(normals, e.Message);
        Assert.Contains("no decodable reference image", e.Message);
    }

    [Fact]
    public void AnUnreadableImageFailsAloneAndLeavesTheRestOfItsCategoryScored()
    {
        var bad = Path.Combine(dir, "bad.png");
        File.WriteAllBytes(bad, [1, 2, 3]);
        using var segmenter = new AnomalySegmenter(new TinyConvSegmenter(2));
        var items = SampleItems().Where(i => i.Category == "cookie").Append(new ContextItem(bad, "cookie")).ToList();
        var results = segmenter.SegmentBatch(items, new ContextOptions { Batch = true }).ToList();
        Assert.Contains("bad.png", Assert.Single(results, r => r.Prediction is null).Error);
        Assert.Equal(3, results.Count(r => r.Source == ContextSource.Batch));
    }

    [Fact]
    public void FusionIsTheWeightedSumWithASigmoidOfTheContextScore()
    {
        var rule = new ContextFusionConfig(Weight: 0.5, Center: 0.6, Scale: 0.1);
        var f = rule.Fuse([0f, 1f, 0.4f], [0.6f, 0.6f, 2f]);
        Assert.Equal(0.25f, f[0], 5);
        Assert.Equal(0.75f, f[1], 5);
        Assert.Equal(0.2f + 0.5f / (1 + MathF.Exp(-14f)), f[2], 5);
        Assert.Throws<ArgumentException>(() => new ContextFusionConfig(1.5, 0.6, 0.1).Validate());
    }

    [Fact]
    public void TheFusedMaskKeepsOnlyRegionsWithASeedPixel()
    {
        // w = 1, so F = P on a 4×1 strip: [0.6, 0.75, 0, 0.6] → two regions above 0.5; only the first reaches the seed 0.7.
        var rule = new ContextFusionConfig(Weight: 1, Center: 0, Scale: 1, Threshold: 0.5, Seed: 0.7);
        float[] map = [0.6f, 0.75f, 0f, 0.6f];
        var p = new Prediction(4, 1, new float[4], new float[4], new float[4], map, new BinaryMask(4, 1), "", false, default);
        var fused = rule.Apply(p, new float[4]);
        Assert.Equal(map, fused.Map);
        Assert.Equal([true, true, false, false], fused.Mask.Data);
        Assert.Equal([true, true, false, true], (rule with { Seed = null }).Apply(p, new float[4]).Mask.Data);
        Assert.Throws<ArgumentException>(() => (rule with { Seed = 0.4 }).Validate());
        Assert.Throws<ArgumentException>(() => (rule with { Seed = 1 }).Validate());
    }

    [Fact]
    public void PredictCliRunsBatchContextAndFewShotThroughTheOneWritingPath()
    {
        var normals = Path.Combine(dir, "normals-cli", "hazelnut");
        Directory.CreateDirectory(normals);
        File.Copy(Repository.Path("samples/images/hazelnut/good_04.jpg"), Path.Combine(normals, "good_04.jpg"));
        var outDir = Path.Combine(dir, "out");
        var (code, _, err) = CliErrorTests.Run("segment", Repository.Path("samples/images"), "--out", outDir, "--mode", "DirectSegmentation",
            "--context", "batch", "--normals", Path.GetDirectoryName(normals)!);
        Assert.Equal(0, code);
        Assert.Contains("'cookie' has no normal references: scored with batch context", err);
        Assert.Equal(7, File.ReadAllLines(Path.Combine(outDir, PredictionFiles.ResultsFile)).Length);
        Assert.True(File.Exists(Path.Combine(outDir, "images", "hazelnut", "colour_00_mask.png")));
    }

    [Fact]
    public void ACsvReferenceSetAssignsNormalRowsToTheirCategoryAndIgnoresAnomalousRows()
    {
        // samples/manifest.csv: hazelnut 3 anomalous + good_04, cookie 2 anomalous + normal-1.
        using var references = ReferenceSet.Load(Repository.Path("samples/manifest.csv"));
        Assert.Equal(["cookie", "hazelnut"], references.Categories);
        Assert.Equal(2, references.ImageCount);
        Assert.False(references.HasSharedReferences);
        Assert.Null(references.For("tire"));
        Assert.Empty(references.Skipped);
    }

    [Fact]
    public void TestCliScoresACsvManifestWithBatchContextAndWithCsvNormals()
    {
        var manifest = Repository.Path("samples/manifest.csv");
        var batch = Path.Combine(dir, "batch");
        var (code, stdout, err) = CliErrorTests.Run("test", "--data", manifest, "--out", batch, "--context", "batch");
        Assert.True(code == 0, err);
        Assert.Equal(7, File.ReadAllLines(Path.Combine(batch, "predictions", PredictionFiles.ResultsFile)).Length);
        Assert.Contains("| **mean** |", stdout);
        Assert.True(File.Exists(Path.Combine(batch, "metrics.json")));

        // Few-shot from the same CSV: the normal rows are the references, every category has one, so nothing falls back.
        var fewShot = Path.Combine(dir, "fewshot");
        (code, _, err) = CliErrorTests.Run("predict", "--data", manifest, "--out", fewShot, "--normals", manifest);
        Assert.True(code == 0, err);
        Assert.DoesNotContain("no normal references", err);
        Assert.Equal(7, File.ReadAllLines(Path.Combine(fewShot, PredictionFiles.ResultsFile)).Length);
        // Context changes the maps: the batch and few-shot maps of an anomalous image differ from each other.
        var npy = Path.Combine("images", "hazelnut", "colour_00.npy");
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(batch, "predictions", npy)), File.ReadAllBytes(Path.Combine(fewShot, npy)));
    }
}
