using AgVas.Data;
using AgVas.Synthesis;

namespace AgVas.Tests.Synthesis;

public class ContactSheetAndForegroundTests
{
    [Fact]
    public void SheetShowsRedContoursOnlyBesideAnomalies()
    {
        var image = SynthTestImages.Flat(64, 64, 128);
        var mask = new BinaryMask(64, 64);
        for (int y = 20; y < 40; y++) for (int x = 20; x < 40; x++) mask.Data[y * 64 + x] = true;
        var sheet = ContactSheet.Render([new SheetItem(image, mask, "hole (small)"), new SheetItem(image, null, "good")], columns: 2, tile: 64);
        // 2 cells of (2·64 + 4) px plus 3 gaps; one row of 64 + 12 px plus 2 gaps
        Assert.Equal((2 * 132 + 3 * 4, 64 + 12 + 2 * 4), (sheet.Width, sheet.Height));
        int RedIn(int x0, int x1)
        {
            int n = 0;
            for (int y = 0; y < sheet.Height; y++)
                for (int x = x0; x < x1; x++)
                {
                    int i = (y * sheet.Width + x) * 3;
                    if (sheet.Pixels[i] == 255 && sheet.Pixels[i + 1] == 0 && sheet.Pixels[i + 2] == 0) n++;
                }
            return n;
        }
        Assert.Equal(0, RedIn(4, 4 + 64)); // the plain copy
        Assert.Equal(4 * 20 - 4, RedIn(4 + 68, 4 + 132)); // the 20×20 square's outline at scale 1
        Assert.Equal(0, RedIn(140, sheet.Width)); // the normal sample
        // The label is drawn (light pixels in the strip under the first cell).
        bool lit = false;
        for (int x = 4; x < 132 && !lit; x++) lit = sheet.Pixels[((4 + 64 + 5) * sheet.Width + x) * 3] > 200;
        Assert.True(lit);
    }

    [Fact]
    public void ForegroundFindsADiscAndCallsTexturesTextures()
    {
        var disc = SynthTestImages.Object(96, 2);
        var fg = Foreground.Estimate(disc);
        Assert.True(fg.IsObject);
        int inter = 0, union = 0;
        for (int y = 0; y < 96; y++)
            for (int x = 0; x < 96; x++)
            {
                bool truth = (x - 48) * (x - 48) + (y - 48) * (y - 48) < 28.8 * 28.8;
                bool est = fg.Mask[y * 96 + x];
                if (truth && est) inter++;
                if (truth || est) union++;
            }
        Assert.True(inter / (double)union > 0.9, $"IoU {inter / (double)union:F3}");
        var texture = Foreground.Estimate(SynthTestImages.Texture(TextureKind.Weave, 96, 1));
        Assert.False(texture.IsObject);
        Assert.All(texture.Mask, Assert.True);
    }

    [Fact]
    public void ResizeKeepsFlatColoursAndShapes()
    {
        var flat = SynthTestImages.Flat(300, 200, 77);
        var small = ImageOps.SquareResize(flat, 64);
        Assert.Equal((64, 64), (small.Width, small.Height));
        Assert.All(small.Pixels, v => Assert.Equal(77, v));
        var big = ImageOps.SquareResize(SynthTestImages.Flat(20, 20, 5), 64);
        Assert.All(big.Pixels, v => Assert.Equal(5, v));
    }

    [Fact]
    public void TexturesAreDeterministicAndNotFlat()
    {
        foreach (var kind in ProceduralTextures.AllKinds)
        {
            var a = SynthTestImages.Texture(kind, 48, 9);
            Assert.Equal(a.Pixels, SynthTestImages.Texture(kind, 48, 9).Pixels);
            Assert.NotEqual(a.Pixels, SynthTestImages.Texture(kind, 48, 10).Pixels);
            Assert.True(a.Pixels.Distinct().Count() > 8, $"{kind} is nearly flat");
        }
    }
}
