using AgVas.Data;
using AgVas.Evaluation;

namespace AgVas.Tests.Evaluation;

/// <summary>The file-based evaluation: path mirroring, map checks, resizing, mask mode, and errors naming the file.</summary>
public class PredictionDirectoryTests
{
    private static readonly SyntheticEvaluationSetOptions Small = new() { Categories = 2, ImagesPerCategory = 5, Width = 24, Height = 20, OddCategoryMapDownscale = 2 };

    [Fact]
    public void FileEvaluationEqualsInMemoryEvaluationOfTheSameArrays()
    {
        using var dir = new TempDir();
        var samples = SyntheticEvaluationSet.Write(dir["data"], dir["pred"], Small);
        var predictions = new PredictionDirectory(dir["pred"], resizeMaps: true);
        var progress = new List<EvaluationProgress>();
        var fromFiles = new Evaluator().Evaluate(samples, predictions, new SyncProgress(progress));
        Assert.Equal(IouSource.PredictedMasks, fromFiles.IouSource);
        Assert.Equal(10, progress.Max(p => p.ImagesDone));
        Assert.Equal(2, progress.Max(p => p.CategoriesDone));

        // The same arrays assembled by hand: maps of category_01 are 12x10 and must be resized to 24x20.
        var byHand = samples.GroupBy(s => s.Category).ToDictionary(g => g.Key, g => (IReadOnlyList<EvaluationImage>)g.Select(s =>
        {
            var map = Npy.Read(predictions.MapPath(s));
            var scores = map.Shape[1] == 24 ? map.ToSingle() : BilinearResize.Resize(map.ToSingle(), map.Shape[1], map.Shape[0], 24, 20);
            var truth = s.MaskPaths.Count > 0 ? ImageIO.LoadMask(s.MaskPaths[0]).Data : null;
            return new EvaluationImage(s.RelativePath, s.IsAnomalous, 24, 20, scores, truth, ImageIO.LoadMask(predictions.MaskPath(s)).Data);
        }).ToList());
        Assert.Equal([12, 10], Npy.Read(predictions.MapPath(samples.First(s => s.Category == "category_01"))).Shape.Reverse());
        var inMemory = new Evaluator().Evaluate(byHand, IouSource.PredictedMasks);
        Assert.Equal(inMemory, fromFiles, new ReportComparer());
    }

    [Fact]
    public void WithoutMaskFilesIouUsesTheOracleThreshold()
    {
        using var dir = new TempDir();
        var samples = SyntheticEvaluationSet.Write(dir["data"], dir["pred"], Small with { WritePredictedMasks = false, Float64Maps = true });
        var report = new Evaluator().Evaluate(samples, new PredictionDirectory(dir["pred"], resizeMaps: true));
        Assert.Equal(IouSource.OracleF1Threshold, report.IouSource);
        Assert.All(report.Categories, c => Assert.NotNull(c.Metrics.IouAno));
    }

    [Fact]
    public void MissingMapsAreListed()
    {
        using var dir = new TempDir();
        var samples = SyntheticEvaluationSet.Write(dir["data"], dir["pred"], Small);
        var predictions = new PredictionDirectory(dir["pred"], resizeMaps: true);
        File.Delete(predictions.MapPath(samples[0]));
        File.Delete(predictions.MapPath(samples[7]));
        var ex = Assert.Throws<DataException>(() => new Evaluator().Evaluate(samples, predictions));
        Assert.Contains("missing prediction maps for 2 image(s)", ex.Message);
        Assert.Contains("category_00/test/good/000.npy", ex.Message);
        Assert.Contains(samples[7].RelativePath.Replace(".png", ".npy"), ex.Message);
    }

    [Fact]
    public void PartialMasksAreAnError()
    {
        using var dir = new TempDir();
        var samples = SyntheticEvaluationSet.Write(dir["data"], dir["pred"], Small);
        var predictions = new PredictionDirectory(dir["pred"], resizeMaps: true);
        File.Delete(predictions.MaskPath(samples[3]));
        var ex = Assert.Throws<DataException>(() => new Evaluator().Evaluate(samples, predictions));
        Assert.Contains("missing prediction masks for 1 image(s)", ex.Message);
        Assert.Contains(samples[3].RelativePath.Replace(".png", "_mask.png"), ex.Message);
    }

    public static IEnumerable<object[]> BadMaps() =>
    [
        ["NaN", NpyArray.FromSingle(Enumerable.Range(0, 480).Select(i => i == 30 ? float.NaN : 0.5f).ToArray(), 20, 24), "NaN at (y=1, x=6)"],
        ["infinity", NpyArray.FromDouble(Enumerable.Range(0, 480).Select(i => i == 0 ? double.NegativeInfinity : 0.5).ToArray(), 20, 24), "an infinite value at (y=0, x=0)"],
        ["beyond float32", NpyArray.FromDouble(Enumerable.Range(0, 480).Select(i => i == 1 ? 1e300 : 0.5).ToArray(), 20, 24), "beyond the float32 range"],
        ["three channels", NpyArray.FromSingle(new float[3 * 480], 3, 20, 24), "shape (3, 20, 24); expected a 2-D map"],
        ["a mask", NpyArray.FromBytes(new byte[480], 20, 24), "dtype '|u1'"],
    ];

    [Theory]
    [MemberData(nameof(BadMaps))]
    public void BadMapsNameTheFile(string what, NpyArray map, string expected)
    {
        using var dir = new TempDir();
        var samples = SyntheticEvaluationSet.Write(dir["data"], dir["pred"], Small);
        var predictions = new PredictionDirectory(dir["pred"], resizeMaps: true);
        var path = predictions.MapPath(samples[2]);
        Npy.Write(path, map);
        var ex = Assert.Throws<DataException>(() => new Evaluator().Evaluate(samples, predictions));
        Assert.Equal(path, ex.File);
        Assert.Contains(expected, ex.Message);
        _ = what;
    }

    [Fact]
    public void LeadingUnitAxesAreAccepted()
    {
        using var dir = new TempDir();
        var samples = SyntheticEvaluationSet.Write(dir["data"], dir["pred"], Small);
        var predictions = new PredictionDirectory(dir["pred"], resizeMaps: true);
        var path = predictions.MapPath(samples[0]);
        var map = Npy.Read(path);
        Npy.Write(path, NpyArray.FromSingle(map.ToSingle(), 1, 1, 20, 24));
        Assert.Equal(map.ToSingle(), PredictionDirectory.LoadMap(path, 24, 20));
    }

    [Fact]
    public void WrongSizeMaskNamesTheFile()
    {
        using var dir = new TempDir();
        var samples = SyntheticEvaluationSet.Write(dir["data"], dir["pred"], Small);
        var predictions = new PredictionDirectory(dir["pred"], resizeMaps: true);
        var path = predictions.MaskPath(samples[4]);
        ImageIO.SaveMaskPng(new BinaryMask(12, 10), path);
        var ex = Assert.Throws<DataException>(() => new Evaluator().Evaluate(samples, predictions));
        Assert.Equal($"{path}: mask is 12x10 but the image is 24x20 (masks are not resized; save them at image size)", ex.Message);
    }

    [Fact]
    public void TruncatedMapNamesTheFile()
    {
        using var dir = new TempDir();
        var samples = SyntheticEvaluationSet.Write(dir["data"], dir["pred"], Small);
        var predictions = new PredictionDirectory(dir["pred"], resizeMaps: true);
        var path = predictions.MapPath(samples[1]);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 7)]);
        var ex = Assert.Throws<DataException>(() => new Evaluator().Evaluate(samples, predictions));
        Assert.Equal(path, ex.File);
        Assert.Contains("truncated .npy data", ex.Message);
    }

    /// <summary>Collects progress synchronously (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class SyncProgress(List<EvaluationProgress> sink) : IProgress<EvaluationProgress>
    {
        public void Report(EvaluationProgress value)
        {
            lock (sink) sink.Add(value);
        }
    }

    private sealed class ReportComparer : IEqualityComparer<EvaluationReport>
    {
        public bool Equals(EvaluationReport? x, EvaluationReport? y) =>
            x!.IouSource == y!.IouSource && x.Mean == y.Mean && x.Categories.SequenceEqual(y.Categories);

        public int GetHashCode(EvaluationReport obj) => 0;
    }
}
