using AgVas.Data;

namespace AgVas.Tests.Data;

public class ImageIOTests
{
    [Fact]
    public void RgbPngRoundTripsExactly()
    {
        var rng = new Random(1);
        var pixels = new byte[7 * 5 * 3];
        rng.NextBytes(pixels);
        using var dir = new TempDir();
        var path = dir.File("round trip.png");
        ImageIO.SaveRgbPng(new RgbImage(7, 5, pixels), path);
        var back = ImageIO.LoadRgb(path);
        Assert.Equal((7, 5), (back.Width, back.Height));
        Assert.Equal(pixels, back.Pixels);
        Assert.Equal(new ImageSize(7, 5), ImageIO.ReadSize(path));
    }

    [Fact]
    public void MaskPngRoundTripsExactly()
    {
        var rng = new Random(2);
        var mask = new BinaryMask(9, 4, Enumerable.Range(0, 36).Select(_ => rng.Next(2) == 1).ToArray());
        using var dir = new TempDir();
        var path = dir.File("m [1].png");
        ImageIO.SaveMaskPng(mask, path);
        Assert.Equal(mask.Data, ImageIO.LoadMask(path, MaskRule.AtLeast128).Data);
        Assert.Equal(mask.Data, ImageIO.LoadMask(path, MaskRule.GreaterThanZero).Data);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void MissingFileErrorNamesTheFile()
    {
        var ex = Assert.Throws<DataException>(() => ImageIO.LoadRgb("/nonexistent/x.png"));
        Assert.Equal("/nonexistent/x.png: file not found", ex.Message);
    }

    [Fact]
    public void LumaMatchesPilOnCorners()
    {
        Assert.Equal(0, ImageIO.Luma(0, 0, 0));
        Assert.Equal(255, ImageIO.Luma(255, 255, 255));
        Assert.Equal(113, ImageIO.Luma(35, 164, 54));
        Assert.Equal(0, ImageIO.Luma(0, 0, 4)); // 4 * 7471 + 32768 < 65536: dark blue is black to PIL
        Assert.Equal(1, ImageIO.Luma(0, 0, 5));
        for (int g = 0; g < 256; g++) Assert.Equal(g, ImageIO.Luma(g, g, g));
    }

    [Fact]
    public void LoadMasksOrsSeveralFiles()
    {
        using var dir = new TempDir();
        var a = new BinaryMask(4, 3); a.Data[0] = true;
        var b = new BinaryMask(4, 3); b.Data[11] = true; b.Data[0] = true;
        ImageIO.SaveMaskPng(a, dir.File("a_mask.png"));
        ImageIO.SaveMaskPng(b, dir.File("a_mask_1.png"));
        var or = ImageIO.LoadMasks([dir.File("a_mask.png"), dir.File("a_mask_1.png")], MaskRule.GreaterThanZero, 4, 3, "a.png");
        Assert.Equal(2, or.CountPositive());
        Assert.True(or.Data[0] && or.Data[11]);
        var none = ImageIO.LoadMasks([], MaskRule.GreaterThanZero, 4, 3, "a.png");
        Assert.Equal(0, none.CountPositive());
    }

    [Fact]
    public void LoadMasksSizeMismatchNamesBothFilesAndSizes()
    {
        using var dir = new TempDir();
        var path = dir.File("b_mask.png");
        ImageIO.SaveMaskPng(new BinaryMask(5, 3), path);
        var ex = Assert.Throws<DataException>(() => ImageIO.LoadMasks([path], MaskRule.GreaterThanZero, 4, 3, "/data/b.png"));
        Assert.Equal($"{path}: mask is 5x3 but its image /data/b.png is 4x3", ex.Message);
    }

    [Fact]
    public void MaskRuleNamesRoundTrip()
    {
        foreach (var rule in Enum.GetValues<MaskRule>())
        {
            Assert.True(MaskRules.TryParse(rule.Name(), out var back));
            Assert.Equal(rule, back);
        }
        Assert.True(MaskRules.TryParse(" GE128 ", out var upper));
        Assert.Equal(MaskRule.AtLeast128, upper);
        Assert.False(MaskRules.TryParse("gt5", out _));
    }
}
