using System.Text.Json;
using AgVas.Data;

namespace AgVas.Tests.Data;

/// <summary>The committed corpus (tools/golden/data_make_corpus.py): odd-but-valid files decode to PIL's values, bad files fail in one line naming the file.</summary>
public class ImageCorpusTests
{
    private sealed record Expected(string Kind, int Width, int Height, string? Rgb, int RgbTolerance, string? Gt0, string? Ge128, string? Problem);

    private static readonly Dictionary<string, Expected> Cases = LoadExpected();

    private static Dictionary<string, Expected> LoadExpected()
    {
        var json = File.ReadAllText(DataFixtures.CorpusFile("expected.json"));
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        return JsonSerializer.Deserialize<Dictionary<string, Expected>>(json, options)!;
    }

    public static TheoryData<string> GoodFiles() => [.. Cases.Where(c => c.Value.Kind == "good").Select(c => c.Key).Order()];
    public static TheoryData<string> BadFiles() => [.. Cases.Where(c => c.Value.Kind == "bad").Select(c => c.Key).Order()];

    [Theory]
    [MemberData(nameof(GoodFiles))]
    public void GoodFileDecodesToPilRgb(string name)
    {
        var e = Cases[name];
        var image = ImageIO.LoadRgb(DataFixtures.CorpusFile(name));
        Assert.Equal((e.Width, e.Height), (image.Width, image.Height));
        var expected = Convert.FromBase64String(e.Rgb!);
        int worst = 0, worstAt = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            int d = Math.Abs(expected[i] - image.Pixels[i]);
            if (d > worst) (worst, worstAt) = (d, i);
        }
        Assert.True(worst <= e.RgbTolerance, $"{name}: byte {worstAt} is {image.Pixels[Math.Max(worstAt, 0)]}, PIL says {expected[Math.Max(worstAt, 0)]} (tolerance {e.RgbTolerance})");
    }

    [Theory]
    [MemberData(nameof(GoodFiles))]
    public void GoodFileBinarisesAsSpecified(string name)
    {
        var e = Cases[name];
        foreach (var (rule, bits) in new[] { (MaskRule.GreaterThanZero, e.Gt0!), (MaskRule.AtLeast128, e.Ge128!) })
        {
            var mask = ImageIO.LoadMask(DataFixtures.CorpusFile(name), rule);
            Assert.Equal((e.Width, e.Height), (mask.Width, mask.Height));
            var expected = Convert.FromBase64String(bits);
            var wrong = Enumerable.Range(0, expected.Length).Where(i => (expected[i] != 0) != mask.Data[i]).ToList();
            Assert.True(wrong.Count == 0, $"{name} {rule}: {wrong.Count} pixels differ, first at (x={wrong.FirstOrDefault() % e.Width}, y={wrong.FirstOrDefault() / e.Width})");
        }
    }

    [Theory]
    [MemberData(nameof(GoodFiles))]
    public void HeaderSizeMatchesDecodedSize(string name)
    {
        var e = Cases[name];
        Assert.Equal(new ImageSize(e.Width, e.Height), ImageIO.ReadSize(DataFixtures.CorpusFile(name)));
    }

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void BadFileGivesOneLineErrorNamingTheFile(string name)
    {
        var path = DataFixtures.CorpusFile(name);
        var problem = Cases[name].Problem!;
        foreach (var load in new Action[]
                 {
                     () => ImageIO.LoadRgb(path),
                     () => ImageIO.LoadMask(path, MaskRule.GreaterThanZero),
                     () => ImageIO.LoadRgb(new MemoryStream(File.ReadAllBytes(path)), path),
                 })
        {
            var ex = Assert.Throws<DataException>(load);
            Assert.StartsWith(path + ": ", ex.Message);
            Assert.Contains(problem, ex.Message);
            Assert.DoesNotContain('\n', ex.Message);
        }
    }

    [Fact]
    public void SixteenBitMaskKeepsOneOver65535()
    {
        // Row 0 of grey16.png holds 0, 1, 255, 256, 32895, 32896, 65535, 40000.
        var gt0 = ImageIO.LoadMask(DataFixtures.CorpusFile("grey16.png"), MaskRule.GreaterThanZero);
        var ge128 = ImageIO.LoadMask(DataFixtures.CorpusFile("grey16.png"), MaskRule.AtLeast128);
        Assert.Equal([false, true, true, true, true, true, true, true], gt0.Data[..8]);
        Assert.Equal([false, false, false, false, false, true, true, true], ge128.Data[..8]);
    }

    [Fact]
    public void PaletteIndexWithBlackColourIsForeground()
    {
        // Row 0 of palette.png holds indices 0..5; index 1 and 4 are black (or luminance 0) yet class ids.
        var gt0 = ImageIO.LoadMask(DataFixtures.CorpusFile("palette.png"), MaskRule.GreaterThanZero);
        Assert.Equal([false, true, true, true, true, true], gt0.Data[..6]);
        var ge128 = ImageIO.LoadMask(DataFixtures.CorpusFile("palette.png"), MaskRule.AtLeast128);
        // Green (35,164,54) has luminance 113; orange (200,130,0) has 136.
        Assert.Equal([false, false, true, false, false, true], ge128.Data[..6]);
    }

    [Fact]
    public void StreamsAndBuffersDecodeLikeFiles()
    {
        var path = DataFixtures.CorpusFile("rgb_luma.png");
        var fromFile = ImageIO.LoadRgb(path);
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(fromFile.Pixels, ImageIO.LoadRgb(new MemoryStream(bytes), "buffer").Pixels);
        Assert.Equal(fromFile.Pixels, ImageIO.LoadRgb(bytes, "buffer").Pixels);
        Assert.Equal(new ImageSize(fromFile.Width, fromFile.Height), ImageIO.ReadSize(bytes, "buffer"));
        var maskPath = DataFixtures.CorpusFile("palette.png");
        Assert.Equal(ImageIO.LoadMask(maskPath).Data, ImageIO.LoadMask(new MemoryStream(File.ReadAllBytes(maskPath)), "m").Data);
    }

    [Fact]
    public void StreamErrorsUseTheGivenName()
    {
        var ex = Assert.Throws<DataException>(() => ImageIO.LoadRgb(new MemoryStream("hello"u8.ToArray()), "upload #3"));
        Assert.StartsWith("upload #3: ", ex.Message);
    }
}
