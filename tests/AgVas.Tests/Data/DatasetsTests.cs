using System.Text.Json;
using AgVas.Data;

namespace AgVas.Tests.Data;

/// <summary>Each supported layout, generated in a temp folder by the test itself (seeded), read through <see cref="Datasets.Load"/>.</summary>
public class DatasetsTests
{
    private static void MakeMvtecCategory(TempDir dir, DummyData data, string category, bool otxNames = false)
    {
        foreach (var n in new[] { "000", "001" }) data.Image(dir.File($"{category}/test/good/{n}.png"));
        data.Image(dir.File($"{category}/train/good/000.png"));
        foreach (var defect in new[] { "broken", "crack" })
            foreach (var n in new[] { "000", "001" })
            {
                data.Image(dir.File($"{category}/test/{defect}/{n}{(otxNames ? ".jpg" : ".png")}"));
                data.Mask(dir.File($"{category}/ground_truth/{defect}/{n}{(otxNames ? "" : "_mask")}.png"));
            }
    }

    [Fact]
    public void MvtecRootWithSeveralCategories()
    {
        using var dir = new TempDir();
        var data = new DummyData(11);
        MakeMvtecCategory(dir, data, "bottle");
        MakeMvtecCategory(dir, data, "grid");
        File.WriteAllText(dir.File("readme.txt"), "not a category");
        Assert.Equal(DatasetFormat.MVTec, Datasets.Detect(dir.Path));

        var samples = Datasets.Load(dir.Path);
        Assert.Equal(12, samples.Count);
        Assert.Equal(["bottle", "grid"], samples.Select(s => s.Category).Distinct());
        Assert.Equal(8, samples.Count(s => s.IsAnomalous));
        var first = samples.First(s => s.IsAnomalous);
        Assert.Equal("bottle/test/broken/000.png", first.RelativePath);
        Assert.Equal("broken", first.Defect);
        Assert.Equal(dir.File("bottle/ground_truth/broken/000_mask.png"), Assert.Single(first.MaskPaths));
        Assert.All(samples.Where(s => !s.IsAnomalous), s => Assert.Empty(s.MaskPaths));
        Datasets.Validate(samples);

        var withTrain = Datasets.Load(dir.Path, options: new DatasetOptions { IncludeTrainGood = true });
        Assert.Equal(14, withTrain.Count);
        Assert.Contains(withTrain, s => s.RelativePath == "grid/train/good/000.png" && !s.IsAnomalous);
    }

    [Fact]
    public void MvtecRootKeepsACategoryWhoseTestImagesAreAllGood()
    {
        // agvas synth writes such a category (test/good only: no ground_truth/, no train/); it used to be dropped silently
        using var dir = new TempDir();
        var data = new DummyData(16);
        MakeMvtecCategory(dir, data, "bottle");
        data.Image(dir.File("stripes/test/good/0008.png"));
        data.Image(dir.File("notes/readme.png"));   // no test/: not a category

        var samples = Datasets.Load(dir.Path);
        Assert.Equal(["bottle", "stripes"], samples.Select(s => s.Category).Distinct());
        var stripes = Assert.Single(samples, s => s.Category == "stripes");
        Assert.False(stripes.IsAnomalous);
        Assert.Equal("stripes/test/good/0008.png", stripes.RelativePath);
    }

    [Fact]
    public void MvtecSingleCategoryFolderWithSameStemMasks()
    {
        using var dir = new TempDir();
        MakeMvtecCategory(dir, new DummyData(12), "hazelnut", otxNames: true);
        var root = Path.Combine(dir.Path, "hazelnut");
        Assert.Equal(DatasetFormat.MVTec, Datasets.Detect(root));
        var samples = Datasets.Load(root);
        Assert.Equal(6, samples.Count);
        Assert.All(samples, s => Assert.Equal("hazelnut", s.Category));
        Assert.Contains(samples, s => s.RelativePath == "test/crack/001.jpg" && s.MaskPaths[0].EndsWith("ground_truth/crack/001.png"));
        Datasets.Validate(samples);
    }

    [Fact]
    public void MvtecMissingMaskNamesTheExpectedFile()
    {
        using var dir = new TempDir();
        MakeMvtecCategory(dir, new DummyData(13), "bottle");
        File.Delete(dir.File("bottle/ground_truth/crack/001_mask.png"));
        var ex = Assert.Throws<DataException>(() => Datasets.Load(dir.Path));
        Assert.Equal(dir.File("bottle/test/crack/001.png"), ex.File);
        Assert.Contains("missing mask: expected " + dir.File("bottle/ground_truth/crack/001_mask.png"), ex.Message);
    }

    [Fact]
    public void ValidateNamesAMaskOfTheWrongSize()
    {
        using var dir = new TempDir();
        var data = new DummyData(14);
        MakeMvtecCategory(dir, data, "bottle");
        data.Mask(dir.File("bottle/ground_truth/broken/001_mask.png"), 9, 6);
        var samples = Datasets.Load(dir.Path);
        var ex = Assert.Throws<DataException>(() => Datasets.Validate(samples));
        Assert.Equal($"{dir.File("bottle/ground_truth/broken/001_mask.png")}: mask is 9x6 but its image {dir.File("bottle/test/broken/001.png")} is 8x6", ex.Message);
    }

    [Fact]
    public void ValidateNamesAMissingOrUnreadableFile()
    {
        using var dir = new TempDir();
        MakeMvtecCategory(dir, new DummyData(15), "bottle");
        var samples = Datasets.Load(dir.Path);
        File.WriteAllText(dir.File("bottle/test/good/001.png"), "oops");
        var ex = Assert.Throws<DataException>(() => Datasets.Validate(samples));
        Assert.Equal(dir.File("bottle/test/good/001.png"), ex.File);
        File.Delete(dir.File("bottle/test/good/001.png"));
        ex = Assert.Throws<DataException>(() => Datasets.Validate(samples));
        Assert.Equal($"{dir.File("bottle/test/good/001.png")}: file not found", ex.Message);
    }

    private static void MakeVisa(TempDir dir, DummyData data, string csvText)
    {
        foreach (var n in new[] { "000", "001" })
        {
            data.Image(dir.File($"candle/Data/Images/Normal/{n}.JPG".Replace(".JPG", ".png")), 14, 10);
            data.Image(dir.File($"candle/Data/Images/Anomaly/{n}.png"), 14, 10);
        }
        // Class-id masks: a palette PNG whose index 1 is black, and a grey PNG holding 1.
        File.Copy(DataFixtures.CorpusFile("palette.png"), dir.File("candle/Data/Masks/Anomaly/000.png"));
        var ids = new byte[140];
        ids[17] = 1;
        DummyData.GreyPng(dir.File("candle/Data/Masks/Anomaly/001.png"), 14, 10, ids);
        File.WriteAllText(dir.File("split_csv/1cls.csv"), csvText);
    }

    private const string VisaCsv =
        "object,split,label,image,mask\n" +
        "candle,train,normal,candle/Data/Images/Normal/000.png,\n" +
        "candle,test,normal,candle/Data/Images/Normal/001.png,\n" +
        "candle,test,anomaly,candle/Data/Images/Anomaly/000.png,candle/Data/Masks/Anomaly/000.png\n" +
        "candle,test,anomaly,candle/Data/Images/Anomaly/001.png,candle/Data/Masks/Anomaly/001.png\n";

    [Fact]
    public void VisaFromRootOrCsvWithClassIdMasks()
    {
        using var dir = new TempDir();
        MakeVisa(dir, new DummyData(21), VisaCsv);
        Assert.Equal(DatasetFormat.VisA, Datasets.Detect(dir.Path));
        Assert.Equal(DatasetFormat.VisA, Datasets.Detect(dir.File("split_csv/1cls.csv")));
        var samples = Datasets.Load(dir.Path);
        Assert.Equal(samples, Datasets.Load(dir.File("split_csv/1cls.csv")));
        Assert.Equal(3, samples.Count);
        Assert.Equal(2, samples.Count(s => s.IsAnomalous));
        Assert.All(samples, s => Assert.Equal("candle", s.Category));
        Assert.Equal("candle/Data/Images/Anomaly/001.png", samples[2].RelativePath);
        Datasets.Validate(samples);

        // Palette index 1 (black) and grey value 1 are anomalies.
        var m0 = ImageIO.LoadMasks(samples[1].MaskPaths, samples[1].MaskRule, 14, 10, samples[1].ImagePath);
        Assert.True(m0.Data[1]);
        var m1 = ImageIO.LoadMasks(samples[2].MaskPaths, samples[2].MaskRule, 14, 10, samples[2].ImagePath);
        Assert.Equal(1, m1.CountPositive());
        Assert.True(m1.Data[17]);

        Assert.Single(Datasets.Load(dir.Path, options: new DatasetOptions { Split = "train" }));
        var ex = Assert.Throws<DataException>(() => Datasets.Load(dir.Path, options: new DatasetOptions { Split = "val" }));
        Assert.Contains("no rows with split 'val' (splits present: test, train)", ex.Message);
    }

    [Fact]
    public void VisaBadLabelNamesCsvAndLine()
    {
        using var dir = new TempDir();
        MakeVisa(dir, new DummyData(22), VisaCsv.Replace("test,anomaly,candle/Data/Images/Anomaly/001", "test,weird,candle/Data/Images/Anomaly/001"));
        var ex = Assert.Throws<DataException>(() => Datasets.Load(dir.Path));
        Assert.Equal(dir.File("split_csv/1cls.csv"), ex.File);
        Assert.Contains("line 5: bad label 'weird'", ex.Message);
    }

    private static object Entry(string img, string mask, string cls, string specie, int anomaly) =>
        new Dictionary<string, object> { ["img_path"] = img, ["mask_path"] = mask, ["cls_name"] = cls, ["specie_name"] = specie, ["anomaly"] = anomaly };

    [Fact]
    public void MetaJsonFromFileOrFolder()
    {
        using var dir = new TempDir();
        var data = new DummyData(31);
        data.Image(dir.File("bottle/test/good/000.png"));
        data.Image(dir.File("bottle/test/broken large/000.png"));
        data.Mask(dir.File("bottle/ground_truth/broken large/000_mask.png"));
        data.Image(dir.File("bottle/train/good/000.png"));
        var meta = new Dictionary<string, object>
        {
            ["train"] = new Dictionary<string, object> { ["bottle"] = new[] { Entry("bottle/train/good/000.png", "", "bottle", "good", 0) } },
            ["test"] = new Dictionary<string, object>
            {
                ["bottle"] = new[]
                {
                    Entry("bottle/test/good/000.png", "", "bottle", "good", 0),
                    Entry("bottle/test/broken large/000.png", "bottle/ground_truth/broken large/000_mask.png", "bottle", "broken large", 1),
                },
            },
        };
        File.WriteAllText(dir.File("meta.json"), JsonSerializer.Serialize(meta));
        Assert.Equal(DatasetFormat.MetaJson, Datasets.Detect(dir.Path));
        var samples = Datasets.Load(dir.Path);
        Assert.Equal(samples, Datasets.Load(dir.File("meta.json")));
        Assert.Equal(2, samples.Count);
        Assert.False(samples[0].IsAnomalous);
        Assert.Empty(samples[0].MaskPaths);
        Assert.Equal("broken large", samples[1].Defect);
        Assert.Equal(dir.File("bottle/ground_truth/broken large/000_mask.png"), samples[1].MaskPaths[0]);
        Datasets.Validate(samples);
        Assert.Single(Datasets.Load(dir.Path, options: new DatasetOptions { Split = "train" }));
    }

    [Fact]
    public void MetaJsonBadAnomalyValueAndBadJsonNameTheFile()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("meta.json"), """{"test": {"cap": [{"img_path": "a.png", "mask_path": "", "anomaly": 7}]}}""");
        var ex = Assert.Throws<DataException>(() => Datasets.Load(dir.Path));
        Assert.Equal($"{dir.File("meta.json")}: test/cap[0]: bad label 'anomaly': 7 (expected 0 or 1)", ex.Message);
        File.WriteAllText(dir.File("meta.json"), """{"test": {"cap": [""");
        ex = Assert.Throws<DataException>(() => Datasets.Load(dir.Path));
        Assert.StartsWith($"{dir.File("meta.json")}: not valid JSON", ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
        File.WriteAllText(dir.File("meta.json"), """{"train": {}}""");
        ex = Assert.Throws<DataException>(() => Datasets.Load(dir.Path));
        Assert.Contains("no 'test' split (keys present: train)", ex.Message);
    }

    [Fact]
    public void ImageFolderIsRecursiveAndSkipsHiddenAndNonImages()
    {
        using var dir = new TempDir();
        var data = new DummyData(41);
        data.Image(dir.File("top [1].png"));
        data.Image(dir.File("line a/cam 2/x.jpg"));
        data.Image(dir.File(".cache/y.png"));
        File.WriteAllText(dir.File("notes.txt"), "x");
        Assert.Equal(DatasetFormat.ImageFolder, Datasets.Detect(dir.Path));
        var samples = Datasets.Load(dir.Path);
        Assert.Equal(["line a/cam 2/x.jpg", "top [1].png"], samples.Select(s => s.RelativePath));
        Assert.Equal(["line a/cam 2", "images"], samples.Select(s => s.Category));
        Assert.All(samples, s => { Assert.False(s.IsAnomalous); Assert.Empty(s.MaskPaths); });
        Datasets.Validate(samples);
        Assert.Single(Datasets.Load(dir.File("top [1].png")));
    }

    [Fact]
    public void EmptyFolderIsAnEmptyDatasetError()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("notes.txt"), "x");
        var ex = Assert.Throws<DataException>(() => Datasets.Load(dir.Path));
        Assert.Equal($"{dir.Path}: empty dataset: no images found (read as ImageFolder)", ex.Message);
    }

    [Fact]
    public void ManifestWithQuotesSeveralMasksAndRules()
    {
        using var dir = new TempDir();
        var data = new DummyData(51);
        data.Image(dir.File("busi/benign/benign (1).png"));
        var a = data.Mask(dir.File("busi/benign/benign (1)_mask.png"));
        var b = data.Mask(dir.File("busi/benign/benign (1)_mask_1.png"));
        data.Image(dir.File("x/good, really [2].png"));
        File.WriteAllText(dir.File("set.csv"),
            "source,category,defect,label,image,mask,mask_rule,extra\n" +
            "busi,breast,benign,anomalous,busi/benign/benign (1).png,busi/benign/benign (1)_mask.png;busi/benign/benign (1)_mask_1.png,ge128,whatever\n" +
            "x,\"cat, with comma\",good,normal,\"x/good, really [2].png\",,,\"say \"\"q\"\"\"\n");
        Assert.Equal(DatasetFormat.Manifest, Datasets.Detect(dir.File("set.csv")));
        var samples = Datasets.Load(dir.File("set.csv"));
        Assert.Equal(2, samples.Count);
        Assert.Equal(MaskRule.AtLeast128, samples[0].MaskRule);
        Assert.Equal(2, samples[0].MaskPaths.Count);
        Assert.Equal("busi", samples[0].Source);
        Assert.Equal("cat, with comma", samples[1].Category);
        Assert.Equal("x/good, really [2].png", samples[1].RelativePath);
        Assert.Equal(MaskRule.GreaterThanZero, samples[1].MaskRule);
        Datasets.Validate(samples);
        var or = ImageIO.LoadMasks(samples[0].MaskPaths, samples[0].MaskRule, 8, 6, samples[0].ImagePath);
        Assert.Equal(a.Data.Zip(b.Data, (p, q) => p || q), or.Data);
    }

    [Fact]
    public void ManifestImagesOutsideItsFolderGetRelativePathsThatStayInside()
    {
        using var dir = new TempDir();
        new DummyData(5).Image(dir.File("data/a.png"));
        File.WriteAllText(dir.File("lists/set.csv"), "source,category,label,image,mask\ns,c,normal,../data/a.png,\n");
        var sample = Assert.Single(Datasets.Load(dir.File("lists/set.csv")));
        Assert.Equal(dir.File("data/a.png"), sample.ImagePath);
        Assert.Equal($"{Datasets.ParentSegment}/data/a.png", sample.RelativePath);
        Assert.StartsWith(dir.File("pred"), AgVas.Inference.PredictionFiles.OverlayPath(dir.File("pred"), sample.RelativePath));
    }

    [Theory]
    [InlineData("source,category,label,image,mask\ns,c,maybe,i.png,\n", "line 2: bad label 'maybe'")]
    [InlineData("source,category,label,image,mask,mask_rule\ns,c,normal,i.png,,gt5\n", "line 2: unknown mask_rule 'gt5' (expected gt0 or ge128)")]
    [InlineData("source,category,label,image\ns,c,normal,i.png\n", "missing CSV column 'mask' (header has: source, category, label, image)")]
    [InlineData("source,category,label,image,mask\ns,c,anomalous,i.png,\n", "line 2: anomalous image without a mask")]
    [InlineData("source,category,label,image,mask\n", "empty dataset")]
    public void ManifestErrorsNameTheFileAndProblem(string csv, string problem)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("m.csv"), csv);
        var ex = Assert.Throws<DataException>(() => Datasets.Load(dir.File("m.csv")));
        Assert.StartsWith(dir.File("m.csv") + ": ", ex.Message);
        Assert.Contains(problem, ex.Message);
    }

    [Fact]
    public void UnknownFileAndMissingPathAreErrors()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("a.txt"), "x");
        Assert.Contains("not a dataset", Assert.Throws<DataException>(() => Datasets.Load(dir.File("a.txt"))).Message);
        Assert.Equal($"{dir.File("nope")}: no such file or folder", Assert.Throws<DataException>(() => Datasets.Load(dir.File("nope"))).Message);
    }
}
