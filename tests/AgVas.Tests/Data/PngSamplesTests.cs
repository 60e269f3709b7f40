using AgVas.Data;

namespace AgVas.Tests.Data;

/// <summary>Our PNG sample reader against SkiaSharp's decoder on PNGs written by SkiaSharp's encoder (adaptive row filters).</summary>
public class PngSamplesTests
{
    [Fact]
    public void MasksFromOurReaderAgreeWithSkiaDecodedLuminance()
    {
        var rng = new Random(7);
        using var dir = new TempDir();
        for (int trial = 0; trial < 12; trial++)
        {
            int w = rng.Next(1, 40), h = rng.Next(1, 30);
            var pixels = new byte[w * h * 3];
            rng.NextBytes(pixels);
            // Smooth rows and dark patches exercise the Sub/Up/Average/Paeth filters and the > 0 boundary.
            for (int i = 3; i < pixels.Length; i++) if (rng.Next(3) == 0) pixels[i] = pixels[i - 3];
            for (int i = 0; i < pixels.Length; i++) if (rng.Next(4) == 0) pixels[i] = (byte)rng.Next(3);
            var path = dir.File($"t{trial}.png");
            ImageIO.SaveRgbPng(new RgbImage(w, h, pixels), path);
            var decoded = ImageIO.LoadRgb(path).Pixels;
            foreach (var rule in Enum.GetValues<MaskRule>())
            {
                var mask = ImageIO.LoadMask(path, rule);
                for (int p = 0; p < w * h; p++)
                {
                    int l = ImageIO.Luma(decoded[3 * p], decoded[3 * p + 1], decoded[3 * p + 2]);
                    Assert.Equal(rule == MaskRule.GreaterThanZero ? l > 0 : l >= 128, mask.Data[p]);
                }
            }
        }
    }

    [Fact]
    public void CorruptCompressedDataIsADataException()
    {
        var bytes = File.ReadAllBytes(DataFixtures.CorpusFile("rgb_luma.png"));
        int idat = bytes.AsSpan().IndexOf("IDAT"u8);
        for (int i = idat + 6; i < idat + 40; i++) bytes[i] ^= 0x5A;
        var ex = Assert.Throws<DataException>(() => ImageIO.LoadMask(bytes, "broken.png"));
        Assert.StartsWith("broken.png: ", ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
    }
}
