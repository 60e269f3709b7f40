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
        var path = Path.Combine(Path.GetTempPath(), $"agvas-{Guid.NewGuid():N}.png");
        try
        {
            ImageIO.SaveRgbPng(new RgbImage(7, 5, pixels), path);
            var back = ImageIO.LoadRgb(path);
            Assert.Equal((7, 5), (back.Width, back.Height));
            Assert.Equal(pixels, back.Pixels);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void MissingFileErrorNamesTheFile()
    {
        var ex = Assert.Throws<DataException>(() => ImageIO.LoadRgb("/nonexistent/x.png"));
        Assert.Contains("/nonexistent/x.png", ex.Message);
    }
}
