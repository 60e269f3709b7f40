using AgVas.Data;
using AgVas.Tests.Data;
using AgVas.Visualization;

namespace AgVas.Tests.Visualization;

public class OverlayTests
{
    private static BinaryMask Square(int w, int h, int x0, int y0, int x1, int y1)
    {
        var m = new BinaryMask(w, h);
        for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++) m.Data[y * w + x] = true;
        return m;
    }

    [Fact]
    public void ContourIsTheMaskBoundary()
    {
        var contour = Overlay.Contour(Square(7, 7, 1, 1, 5, 5));
        Assert.Equal(16, contour.Count(c => c)); // 5x5 square: 25 - 9 interior
        Assert.True(contour[1 * 7 + 1]);
        Assert.False(contour[3 * 7 + 3]);
        Assert.False(contour[0]);
        var thick = Overlay.Contour(Square(7, 7, 1, 1, 5, 5), thickness: 2);
        Assert.Equal(48, thick.Count(c => c)); // ring widened by one covers the 7x7 but the centre
        Assert.False(thick[3 * 7 + 3]);
        Assert.True(Overlay.Contour(Square(3, 3, 0, 0, 2, 2))[4] == false);
    }

    [Fact]
    public void RenderDrawsHeatThenGroundTruthThenPrediction()
    {
        var image = new RgbImage(6, 4, Enumerable.Repeat((byte)100, 72).ToArray());
        var gt = Square(6, 4, 0, 0, 2, 3);
        var pred = Square(6, 4, 2, 0, 5, 3);
        var heat = Enumerable.Range(0, 24).Select(i => i % 6 == 5 ? 1f : 0f).ToArray();
        heat[0] = float.NaN;
        var result = Overlay.Render(image, pred, gt, heat, new OverlayOptions { HeatAlpha = 0.5f });
        byte[] Px(int x, int y) => result.Pixels[((y * 6 + x) * 3)..((y * 6 + x) * 3 + 3)];
        Assert.Equal([255, 0, 0], Px(2, 1));      // prediction contour over ground truth
        Assert.Equal([255, 255, 255], Px(0, 1));  // ground-truth contour
        Assert.Equal([50, 50, 114], Px(1, 1));   // interior of ground truth, heat 0 -> jet dark blue (0,0,128), half alpha over 100
        Assert.Equal([100, 100, 100], image.Pixels[..3]); // input untouched
        var noHeat = Overlay.Render(image, null, null, null);
        Assert.Equal(image.Pixels, noHeat.Pixels);
    }

    [Fact]
    public void JetEnds()
    {
        Assert.Equal(((byte)0, (byte)0, (byte)128), Colormap.Jet(0f));
        Assert.Equal(((byte)128, (byte)0, (byte)0), Colormap.Jet(1f));
        Assert.Equal(((byte)128, (byte)255, (byte)128), Colormap.Jet(0.5f));
    }

    [Fact]
    public void SaveWritesAPngAndSizeMismatchIsRejected()
    {
        using var dir = new TempDir();
        var image = new RgbImage(5, 3);
        var path = dir.File("out/overlay [a].png");
        Overlay.Save(path, image, Square(5, 3, 1, 1, 3, 1), heatMap: new float[15]);
        Assert.Equal(new ImageSize(5, 3), ImageIO.ReadSize(path));
        Assert.Throws<ArgumentException>(() => Overlay.Render(image, new BinaryMask(4, 3)));
        Assert.Throws<ArgumentException>(() => Overlay.Render(image, null, heatMap: new float[14]));
    }
}
