using AgVas.Data;
using AgVas.Synthesis;

namespace AgVas.Tests.Synthesis;

public class AnomalySynthesizerTests
{
    private static AnomalySynthesizer Make(ulong seed, double normalRatio = 0.25, bool foreground = false) =>
        new([new ProceduralSource()], new SynthesisOptions(Size: 64, NormalRatio: normalRatio, ForegroundOnly: foreground, Seed: seed));

    [Fact]
    public void SampleIsAPureFunctionOfSeedAndIndex()
    {
        var a = Make(5);
        var b = Make(5);
        // Out of order and repeated: sample i never depends on what was generated before.
        foreach (var i in new long[] { 3, 0, 7, 3 })
        {
            var x = a.Generate(i);
            var y = b.Generate(i);
            Assert.Equal(x.Image.Pixels, y.Image.Pixels);
            Assert.Equal(x.Mask.Data, y.Mask.Data);
            Assert.Equal((x.Category, x.Defect), (y.Category, y.Defect));
        }
        Assert.NotEqual(Make(5).Generate(1).Image.Pixels, Make(6).Generate(1).Image.Pixels);
    }

    [Fact]
    public void NormalSamplesAreUnchangedWithEmptyMasksAndAnomaliesHaveMasks()
    {
        var synth = Make(11, normalRatio: 0.4);
        int normals = 0;
        for (int i = 0; i < 60; i++)
        {
            var s = synth.Generate(i);
            if (!s.IsAnomalous)
            {
                normals++;
                Assert.Equal("good", s.Defect);
                Assert.Equal(0, s.Mask.CountPositive());
            }
            else
            {
                Assert.True(s.Mask.CountPositive() > 0);
                Assert.Equal(AnomalyKinds.Name(s.Kind!.Value), s.Defect);
            }
        }
        Assert.InRange(normals, 12, 36); // 60 draws at p = 0.4
    }

    [Fact]
    public void RatioZeroAndOne()
    {
        Assert.All(Enumerable.Range(0, 10), i => Assert.True(Make(1, 0).Generate(i).IsAnomalous));
        Assert.All(Enumerable.Range(0, 10), i => Assert.False(Make(1, 1).Generate(i).IsAnomalous));
    }

    [Fact]
    public void KindsOptionRestrictsTheKinds()
    {
        var synth = new AnomalySynthesizer([new ProceduralSource()],
            new SynthesisOptions(Size: 48, NormalRatio: 0, Kinds: [AnomalyKind.Scratch, AnomalyKind.Hole], Seed: 2));
        var defects = Enumerable.Range(0, 20).Select(i => synth.Generate(i).Defect).ToHashSet();
        Assert.Subset(new HashSet<string> { "scratch", "hole" }, defects);
    }

    /// <summary>A second procedural source with its own category, to tell the sources apart.</summary>
    private sealed class FlatSource : INormalSource
    {
        public string Name => "flat";
        public int Count => 1;
        public NormalImage Load(int index, int size, ulong seed) => new(SynthTestImages.Flat(size, size, 90), "flat", "test");
    }

    [Fact]
    public void SourceWeightsMixTheSources()
    {
        var synth = new AnomalySynthesizer([new ProceduralSource(), new FlatSource()],
            new SynthesisOptions(Size: 32, NormalRatio: 1, Seed: 1, SourceWeights: [0.2, 0.8]));
        int flat = Enumerable.Range(0, 500).Count(i => synth.Generate(i).Category == "flat");
        Assert.InRange(flat, 360, 440);
        var only = new AnomalySynthesizer([new ProceduralSource(), new FlatSource()],
            new SynthesisOptions(Size: 32, NormalRatio: 1, Seed: 1, SourceWeights: [1, 0]));
        Assert.All(Enumerable.Range(0, 50), i => Assert.NotEqual("flat", only.Generate(i).Category));
        Assert.Throws<ArgumentException>(() => new AnomalySynthesizer([new ProceduralSource()], new SynthesisOptions(SourceWeights: [1, 1])));
        Assert.Throws<ArgumentException>(() => new AnomalySynthesizer([new ProceduralSource()], new SynthesisOptions(SourceWeights: [0])));
    }

    [Fact]
    public void InvalidOptionsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new AnomalySynthesizer([new ProceduralSource()], new SynthesisOptions(NormalRatio: 1.5)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AnomalySynthesizer([new ProceduralSource()], new SynthesisOptions(Size: 4)));
        Assert.Throws<ArgumentException>(() => new AnomalySynthesizer([], new SynthesisOptions()));
    }

    [Fact]
    public void WriterOutputDoesNotDependOnThreadCount()
    {
        var dir1 = Path.Combine(Path.GetTempPath(), $"agvas-synth-{Guid.NewGuid():N}");
        var dir3 = dir1 + "-3";
        try
        {
            var rows1 = AnomalySegWriter.Write(Make(9), 24, dir1, threads: 1);
            AnomalySegWriter.Write(Make(9), 24, dir3, threads: 3);
            var files1 = Directory.GetFiles(dir1, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dir1, f)).Order().ToList();
            var files3 = Directory.GetFiles(dir3, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dir3, f)).Order().ToList();
            Assert.Equal(files1, files3);
            foreach (var f in files1) Assert.Equal(File.ReadAllBytes(Path.Combine(dir1, f)), File.ReadAllBytes(Path.Combine(dir3, f)));
            // MVTec layout and manifest columns as the shared dev.csv.
            var lines = File.ReadAllLines(Path.Combine(dir1, "manifest.csv"));
            Assert.Equal("source,category,defect,label,image,mask,mask_rule,mask_fg_frac", lines[0]);
            Assert.Equal(25, lines.Length);
            foreach (var row in rows1)
            {
                Assert.Matches(row.IsAnomalous ? $"^{row.Category}/test/{row.Defect}/\\d{{4}}\\.png$" : $"^{row.Category}/test/good/\\d{{4}}\\.png$", row.Image);
                if (row.IsAnomalous)
                {
                    Assert.Equal(row.Image.Replace("/test/", "/ground_truth/").Replace(".png", "_mask.png"), row.Mask);
                    var mask = ImageIO.LoadMask(Path.Combine(dir1, row.Mask!));
                    Assert.Equal(row.MaskFraction, (double)mask.CountPositive() / mask.Data.Length, 9);
                }
            }
            // The shared dataset reader reads it back.
            var samples = Datasets.Load(Path.Combine(dir1, "manifest.csv"));
            Assert.Equal(24, samples.Count);
            Assert.Equal(rows1.Count(r => r.IsAnomalous), samples.Count(s => s.IsAnomalous));
        }
        finally
        {
            if (Directory.Exists(dir1)) Directory.Delete(dir1, true);
            if (Directory.Exists(dir3)) Directory.Delete(dir3, true);
        }
    }

    [Fact]
    public void ImageFilesAreUsedAsNormals()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"agvas-normals-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(dir);
            ImageIO.SaveRgbPng(SynthTestImages.Object(80, 1), Path.Combine(dir, "a.png"));
            ImageIO.SaveRgbPng(SynthTestImages.Texture(TextureKind.Weave, 50, 2), Path.Combine(dir, "b.png"));
            var source = ImageFileSource.FromSamples(dir, Datasets.Load(dir));
            Assert.Equal(2, source.Count);
            var synth = new AnomalySynthesizer([source], new SynthesisOptions(Size: 64, NormalRatio: 0, Kinds: [AnomalyKind.CutPaste], Seed: 1));
            for (int i = 0; i < 6; i++)
            {
                var s = synth.Generate(i);
                Assert.Equal((64, 64), (s.Image.Width, s.Image.Height));
                Assert.True(s.Mask.CountPositive() > 0);
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [SkippableFact]
    public void DevSplitNormalsFeedSynthesis()
    {
        var dev = RealData.File("dev.csv");
        Skip.If(dev is null, RealData.SkipReason);
        var samples = Datasets.Load(dev);
        var source = ImageFileSource.FromSamples(dev, samples);
        Assert.Equal(samples.Count(s => !s.IsAnomalous), source.Count);
        var synth = new AnomalySynthesizer([source], new SynthesisOptions(Size: 128, NormalRatio: 0, ForegroundOnly: true, Seed: 3));
        for (int i = 0; i < 9; i++)
        {
            var s = synth.Generate(i);
            Assert.True(s.Mask.CountPositive() > 0);
            Assert.Contains(s.Category, new[] { "hazelnut", "magnetic_tile", "breast_us" });
        }
    }
}
