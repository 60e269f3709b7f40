using AgVas.Data;
using AgVas.Modeling;
using AgVas.Synthesis;
using AgVas.Text;
using CsCheck;

namespace AgVas.Tests.Synthesis;

public class InstructCuratorTests
{
    private const int W = 90, H = 90;

    private static readonly string[] GridNames =
        ["top left", "top", "top right", "left", "centre", "right", "bottom left", "bottom", "bottom right"];

    /// <summary>Every "the &lt;cell&gt; of the image" phrase (longest names first so "top left" is not read as "left").</summary>
    private static readonly System.Text.RegularExpressions.Regex ImagePlace =
        new(@"\bthe (top left|top right|bottom left|bottom right|top|bottom|left|right|centre) of the image");

    private static BinaryMask Rects(params (int X, int Y, int W, int H)[] rects)
    {
        var m = new BinaryMask(W, H);
        foreach (var (x0, y0, w, h) in rects)
            for (int y = y0; y < y0 + h; y++)
                for (int x = x0; x < x0 + w; x++) m.Data[y * W + x] = true;
        return m;
    }

    private static RgbImage Grey() => SynthTestImages.Flat(W, H, 128);

    private static InstructRecord Describe(RgbImage image, BinaryMask mask, ulong seed = 0, string? defect = null) =>
        InstructCurator.Describe(image, mask, "metal_plate", defect, "x.png", ["x_mask.png"], seed);

    private static IEnumerable<string> AllTexts(InstructRecord r) => [r.Observation, r.Diagnosis, r.Summary, r.Explanation];

    /// <summary>A rectangle placed inside one cell of the 3×3 grid is located in that cell, and no text names any other
    /// image cell ("… of the image"), whatever template the seed picks.</summary>
    [Fact]
    public void LocationMatchesTheGridCellAndIsNeverContradicted()
    {
        Gen.Select(Gen.Int[0, 2], Gen.Int[0, 2], Gen.Int[1, 20], Gen.Int[1, 20], Gen.ULong, (row, col, w, h, seed) => (row, col, w, h, seed))
            .Sample(t =>
            {
                // cell = 30 px; keep the rectangle inside it
                int x0 = t.col * 30 + (30 - Math.Min(t.w, 28)) / 2, y0 = t.row * 30 + (30 - Math.Min(t.h, 28)) / 2;
                var mask = Rects((x0, y0, Math.Min(t.w, 28), Math.Min(t.h, 28)));
                var r = Describe(Grey(), mask, t.seed);
                var a = r.Attributes!;
                Assert.Equal((t.row, t.col), (a.GridRow, a.GridColumn));
                string expected = GridNames[t.row * 3 + t.col] + " of the image";
                Assert.Contains(expected, r.Observation);
                Assert.Contains(expected, r.Summary);
                foreach (var text in AllTexts(r))
                    foreach (System.Text.RegularExpressions.Match m in ImagePlace.Matches(text))
                        Assert.Equal(GridNames[t.row * 3 + t.col], m.Groups[1].Value);
            }, iter: 150);
    }

    /// <summary>Size classes follow the documented area thresholds and the size word is the class's.</summary>
    [Fact]
    public void SizeClassMatchesArea()
    {
        Gen.Select(Gen.Int[1, 80], Gen.Int[1, 80], Gen.ULong, (w, h, seed) => (w, h, seed)).Sample(t =>
        {
            var r = Describe(Grey(), Rects((0, 0, t.w, t.h)), t.seed);
            double frac = (double)t.w * t.h / (W * H);
            var expected = frac < 0.001 ? SizeClass.Tiny : frac < 0.01 ? SizeClass.Small : frac < 0.05 ? SizeClass.Medium : SizeClass.Large;
            Assert.Equal(frac, r.Attributes!.AreaFraction, 12);
            Assert.Equal(expected, r.Attributes.Size);
            string word = expected switch { SizeClass.Tiny => "tiny", SizeClass.Small => "small", SizeClass.Medium => "medium-sized", _ => "large" };
            Assert.Contains(word, r.Summary);
            foreach (var other in new[] { "tiny", "small", "medium-sized", "large" }.Where(x => x != word))
                Assert.DoesNotContain(other + " ", r.Observation);
        }, iter: 150);
    }

    /// <summary>k separated squares give k regions; from three on the shape is "scattered" and the text gives the count.</summary>
    [Fact]
    public void RegionCountMatches()
    {
        string[] words = ["", "", "two", "three", "four", "five", "six"];
        Gen.Select(Gen.Int[1, 6], Gen.Int[2, 6], Gen.ULong, (k, side, seed) => (k, side, seed)).Sample(t =>
        {
            var rects = Enumerable.Range(0, t.k).Select(i => (3 + (i % 3) * 30, 3 + (i / 3) * 30, t.side, t.side)).ToArray();
            var r = Describe(Grey(), Rects(rects), t.seed);
            Assert.Equal(t.k, r.Attributes!.RegionCount);
            if (t.k >= 3)
            {
                Assert.Equal(ShapeClass.Scattered, r.Attributes.Shape);
                Assert.Contains($"{words[t.k]} scattered spots", r.Observation);
            }
            else if (t.k == 2) Assert.Contains("two separate parts", r.Observation);
            else Assert.Contains("a single connected region", r.Explanation.Replace("A single", "a single"));
        }, iter: 100);
    }

    [Fact]
    public void ShapesAndOrientation()
    {
        var line = Describe(Grey(), Rects((10, 40, 60, 2))).Attributes!;
        Assert.Equal((ShapeClass.LineLike, "horizontal"), (line.Shape, line.Orientation));
        var vertical = Describe(Grey(), Rects((40, 10, 2, 60))).Attributes!;
        Assert.Equal((ShapeClass.LineLike, "vertical"), (vertical.Shape, vertical.Orientation));
        var diag = new BinaryMask(W, H);
        for (int i = 5; i < 80; i++) { diag.Data[i * W + i] = true; diag.Data[i * W + i + 1] = true; }
        var d = Describe(Grey(), diag).Attributes!;
        Assert.Equal((ShapeClass.LineLike, "diagonal"), (d.Shape, d.Orientation));
        var disc = new BinaryMask(W, H);
        for (int y = 0; y < H; y++) for (int x = 0; x < W; x++) disc.Data[y * W + x] = (x - 45) * (x - 45) + (y - 45) * (y - 45) <= 144;
        Assert.Equal(ShapeClass.Round, Describe(Grey(), disc).Attributes!.Shape);
        var ell = new BinaryMask(W, H); // an L shape: neither round nor a line
        foreach (var (x0, y0, w, h) in new[] { (20, 20, 30, 8), (20, 20, 8, 30) })
            for (int y = y0; y < y0 + h; y++) for (int x = x0; x < x0 + w; x++) ell.Data[y * W + x] = true;
        Assert.Equal(ShapeClass.Irregular, Describe(Grey(), ell).Attributes!.Shape);
    }

    [Fact]
    public void AppearanceComesFromThePixels()
    {
        var mask = Rects((30, 30, 20, 20));
        var dark = Grey();
        var bright = Grey();
        var red = Grey();
        for (int p = 0; p < W * H; p++)
        {
            if (!mask.Data[p]) continue;
            dark.Pixels[p * 3] = dark.Pixels[p * 3 + 1] = dark.Pixels[p * 3 + 2] = 40;
            bright.Pixels[p * 3] = bright.Pixels[p * 3 + 1] = bright.Pixels[p * 3 + 2] = 220;
            red.Pixels[p * 3] = 200; red.Pixels[p * 3 + 1] = 60; red.Pixels[p * 3 + 2] = 50;
        }
        var rd = Describe(dark, mask);
        Assert.Equal(Tone.Darker, rd.Attributes!.Tone);
        Assert.Contains("darker", rd.Observation);
        Assert.DoesNotContain("brighter", rd.Observation);
        Assert.Null(rd.Attributes.ColourName);
        var rb = Describe(bright, mask);
        Assert.Equal(Tone.Brighter, rb.Attributes!.Tone);
        Assert.DoesNotContain("darker", rb.Observation);
        var rr = Describe(red, mask);
        Assert.Equal("red", rr.Attributes!.ColourName);
        Assert.Contains("red", rr.Observation);
    }

    [Fact]
    public void ObjectRelativeLocationUsesTheObjectsBox()
    {
        // Object (disc) in the image centre; the defect in its upper-left part is still in the image's centre cell.
        var image = SynthTestImages.Object(90, 1);
        var mask = Rects((24, 24, 8, 8));
        var r = InstructCurator.Describe(image, mask, "hazelnut", null, "x.png", ["m.png"], 3);
        Assert.Equal((0, 0), (r.Attributes!.ObjectRow, r.Attributes.ObjectColumn));
        Assert.Contains("upper left-hand part of the hazelnut", r.Observation);
    }

    [Fact]
    public void SummariesEndInTheAnchorsAndNormalsSayNormal()
    {
        for (ulong seed = 0; seed < 20; seed++)
        {
            var r = Describe(Grey(), Rects((5, 5, 9, 9)), seed, "MT_Blowhole");
            Assert.EndsWith(Anchors.Suffix, r.Summary);
            Assert.Equal("blowhole", r.Attributes!.DefectName);
            Assert.Contains("blowhole", r.Diagnosis);
            Assert.True(r.IsAnomalous);
            var n = InstructCurator.Describe(Grey(), new BinaryMask(W, H), "metal_plate", "good", "n.png", [], seed);
            Assert.False(n.IsAnomalous);
            Assert.Null(n.Attributes);
            Assert.EndsWith(Anchors.Suffix, n.Summary);
            Assert.Contains("normal", n.Diagnosis + n.Summary);
            Assert.False(string.IsNullOrWhiteSpace(n.Expectation));
        }
    }

    [Fact]
    public void WordingVariesWithTheSeedAndIsDeterministic()
    {
        var mask = Rects((5, 5, 9, 9));
        var texts = Enumerable.Range(0, 30).Select(s => Describe(Grey(), mask, (ulong)s).Observation).ToHashSet();
        Assert.True(texts.Count >= 3, $"only {texts.Count} distinct observations");
        Assert.Equal(Describe(Grey(), mask, 7).Observation, Describe(Grey(), mask, 7).Observation);
        Assert.Equal(Describe(Grey(), mask, 7).Attributes, Describe(Grey(), mask, 7).Attributes);
        Assert.Equal(Describe(Grey(), mask, 7).Explanation, Describe(Grey(), mask, 7).Explanation);
    }

    [Theory]
    [InlineData("MT_Blowhole", "blowhole")]
    [InlineData("colour_spot", "colour spot")]
    [InlineData("colour", "colour defect")]
    [InlineData("malignant", "malignant lesion")]
    [InlineData("good", null)]
    [InlineData("normal", null)]
    [InlineData(null, null)]
    public void DefectNamesAreHumanised(string? raw, string? expected) => Assert.Equal(expected, MaskAttributes.HumaniseDefect(raw));

    [Theory]
    [InlineData("texture_weave", "weave texture")]
    [InlineData("breast_us", "breast ultrasound")]
    [InlineData("metal_plate", "metal plate")]
    public void CategoriesAreHumanised(string raw, string expected) => Assert.Equal(expected, InstructCurator.HumaniseCategory(raw));

    [Fact]
    public void JsonlRoundTripsAndNamesBadLines()
    {
        var path = Path.Combine(Path.GetTempPath(), $"agvas-instruct-{Guid.NewGuid():N}.jsonl");
        try
        {
            var records = new[] { Describe(Grey(), Rects((5, 5, 9, 9)), 1), InstructCurator.Describe(Grey(), new BinaryMask(W, H), "plate", "good", "n.png", [], 2) };
            InstructJsonl.Write(records, path);
            var text = File.ReadAllText(path);
            Assert.Contains("\"shape\":\"round\"", text);
            Assert.Contains("\"grid_row\":0", text);
            var back = InstructJsonl.Read(path);
            Assert.Equal(records[0].Summary, back[0].Summary);
            Assert.Equal(records[0].Attributes, back[0].Attributes);
            Assert.Null(back[1].Attributes);
            File.AppendAllText(path, "{not json\n");
            var e = Assert.Throws<DataException>(() => InstructJsonl.Read(path));
            Assert.Contains("line 3", e.Message);
        }
        finally { File.Delete(path); }
    }

    /// <summary>Curating a synthesized dataset: every synthetic record's region count and size agree with its mask file.</summary>
    [Fact]
    public void CuratesASynthesizedManifest()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"agvas-curate-{Guid.NewGuid():N}");
        try
        {
            var synth = new AnomalySynthesizer([new ProceduralSource()], new SynthesisOptions(Size: 64, NormalRatio: 0.3, Seed: 4));
            AnomalySegWriter.Write(synth, 12, dir, 2);
            var samples = Datasets.Load(Path.Combine(dir, "manifest.csv"));
            var jsonl = Path.Combine(dir, "instruct.jsonl");
            var records = InstructJsonl.Curate(samples, jsonl, 1, 2);
            Assert.Equal(samples.Count, records.Count);
            for (int i = 0; i < records.Count; i++)
            {
                Assert.Equal(samples[i].IsAnomalous, records[i].IsAnomalous);
                if (!records[i].IsAnomalous) continue;
                var mask = ImageIO.LoadMask(Path.Combine(dir, records[i].Masks[0]));
                Assert.Equal(MaskOps.Label8(mask.Data, 64, 64).Count, records[i].Attributes!.RegionCount);
                Assert.Equal(MaskAttributes.ClassifySize((double)mask.CountPositive() / mask.Data.Length), records[i].Attributes!.Size);
                Assert.Contains(MaskAttributes.HumaniseDefect(samples[i].Defect)!, records[i].Observation + records[i].Diagnosis);
            }
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}
