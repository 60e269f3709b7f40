using AgVas.Data;
using AgVas.Synthesis;

namespace AgVas.Tests.Synthesis;

public class DefectPaintersTests
{
    public static TheoryData<AnomalyKind> Kinds()
    {
        var data = new TheoryData<AnomalyKind>();
        foreach (var k in AnomalyKinds.All) data.Add(k);
        return data;
    }

    private static IEnumerable<(RgbImage Image, string Name)> Bases()
    {
        int i = 0;
        foreach (var kind in ProceduralTextures.AllKinds) yield return (SynthTestImages.Texture(kind, 96, (ulong)(10 + i++)), kind.ToString());
        yield return (SynthTestImages.Object(96, 3), "object");
        yield return (SynthTestImages.Flat(96, 96, 3), "near-black");
        yield return (SynthTestImages.Flat(96, 96, 252), "near-white");
    }

    /// <summary>The mask is exactly where pixels changed: nothing outside the mask grown by the blend margin changes,
    /// the mask is never empty, and at most MaxFaintFraction of its pixels change by less than MinVisibleChange.</summary>
    [Theory]
    [MemberData(nameof(Kinds))]
    public void MaskIsExactlyWherePixelsChanged(AnomalyKind kind)
    {
        int cases = 0;
        foreach (var (image, name) in Bases())
            foreach (var size in Enum.GetValues<DefectSize>())
                for (ulong seed = 0; seed < 3; seed++)
                {
                    var (output, mask) = AnomalySynthesizer.PaintDefect(image, null, kind, size, foregroundOnly: false, seed * 31 + (ulong)size);
                    AssertExact(image, output, mask, $"{kind} on {name}, {size}, seed {seed}");
                    cases++;
                }
        Assert.Equal((ProceduralTextures.AllKinds.Count + 3) * 3 * 3, cases);
    }

    internal static void AssertExact(RgbImage before, RgbImage after, BinaryMask mask, string what)
    {
        int w = mask.Width, h = mask.Height;
        int area = mask.CountPositive();
        Assert.True(area > 0, $"{what}: empty mask for an anomalous sample");
        var near = MaskOps.Dilate(mask.Data, w, h, DefectCanvas.BlendMargin);
        int faint = 0;
        for (int p = 0; p < w * h; p++)
        {
            int diff = AnomalySynthesizer.MaxChannelDiff(before.Pixels, after.Pixels, p);
            if (!near[p]) Assert.True(diff == 0, $"{what}: pixel ({p % w}, {p / w}) changed by {diff} outside the mask + margin");
            if (mask.Data[p] && diff < AnomalySynthesizer.MinVisibleChange) faint++;
        }
        Assert.True(faint <= AnomalySynthesizer.MaxFaintFraction * area,
            $"{what}: {faint} of {area} mask pixels changed by less than {AnomalySynthesizer.MinVisibleChange}");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ForegroundOnlyKeepsDefectsOnTheObject(AnomalyKind kind)
    {
        var image = SynthTestImages.Object(96, 5);
        var fg = Foreground.Estimate(image);
        Assert.True(fg.IsObject);
        for (ulong seed = 0; seed < 4; seed++)
        {
            var (output, mask) = AnomalySynthesizer.PaintDefect(image, null, kind, DefectSize.Medium, foregroundOnly: true, seed);
            AssertExact(image, output, mask, $"{kind} seed {seed}");
            for (int p = 0; p < mask.Data.Length; p++)
                Assert.False(mask.Data[p] && !fg.Mask[p], $"{kind} seed {seed}: mask pixel ({p % 96}, {p / 96}) off the object");
        }
    }

    [Fact]
    public void MissingPieceOnAnObjectShowsTheBackground()
    {
        var image = SynthTestImages.Object(96, 8);
        var (output, mask) = AnomalySynthesizer.PaintDefect(image, null, AnomalyKind.MissingPiece, DefectSize.Large, false, 4);
        // Inside the bitten part the colour is close to the background's (40, 60, 70), not the object's.
        double r = 0, g = 0, b = 0;
        int n = 0;
        for (int p = 0; p < mask.Data.Length; p++)
        {
            if (!mask.Data[p]) continue;
            r += output.Pixels[p * 3]; g += output.Pixels[p * 3 + 1]; b += output.Pixels[p * 3 + 2]; n++;
        }
        Assert.InRange(r / n, 30, 55);
        Assert.InRange(g / n, 50, 75);
        Assert.InRange(b / n, 60, 85);
    }

    [Fact]
    public void SameSeedSameBytesDifferentSeedDifferentDefect()
    {
        var image = SynthTestImages.Texture(TextureKind.Marble, 64, 1);
        foreach (var kind in AnomalyKinds.All)
        {
            var a = AnomalySynthesizer.PaintDefect(image, null, kind, DefectSize.Medium, false, 42);
            var b = AnomalySynthesizer.PaintDefect(image, null, kind, DefectSize.Medium, false, 42);
            var c = AnomalySynthesizer.PaintDefect(image, null, kind, DefectSize.Medium, false, 43);
            Assert.Equal(a.Image.Pixels, b.Image.Pixels);
            Assert.Equal(a.Mask.Data, b.Mask.Data);
            Assert.NotEqual(a.Mask.Data, c.Mask.Data);
        }
    }

    /// <summary>Lesions and masses are the large kinds: each intended size lands in its own area band (up to the blob's
    /// wobble and what the border clips), and a large lesion covers more than any other kind's large defect may.</summary>
    [Theory]
    [InlineData(AnomalyKind.Lesion)]
    [InlineData(AnomalyKind.Mass)]
    public void LesionsCoverTheirAreaBandsAndOutgrowTheOtherKinds(AnomalyKind kind)
    {
        var image = SynthTestImages.Texture(TextureKind.Noise, 128, 5);
        foreach (var size in Enum.GetValues<DefectSize>())
        {
            var (lo, hi) = DefectPainters.LesionAreaRange(size);
            var areas = Enumerable.Range(0, 12).Select(seed =>
                AnomalySynthesizer.PaintDefect(image, null, kind, size, false, (ulong)seed).Mask.CountPositive() / (128.0 * 128)).ToList();
            Assert.All(areas, a => Assert.InRange(a, lo * 0.4, hi * 1.6));
            Assert.InRange(areas.Average(), lo * 0.7, hi * 1.2);
        }
        Assert.True(DefectPainters.LesionAreaRange(DefectSize.Large).Min > DefectPainters.AreaRange(DefectSize.Large).Max);
    }

    /// <summary>A mass grows from the surface itself: its mean colour stays within a few per cent of what it covered,
    /// unlike a lesion's, and the kinds drawn by default leave it out, in the order they had before it existed.</summary>
    [Fact]
    public void AMassKeepsTheSurfaceColourAndIsDrawnOnlyWhenNamed()
    {
        var image = SynthTestImages.Texture(TextureKind.Noise, 128, 5);
        double massShift = 0, lesionShift = 0;
        for (int seed = 0; seed < 12; seed++)
        {
            massShift += MeanShiftInMask(image, AnomalySynthesizer.PaintDefect(image, null, AnomalyKind.Mass, DefectSize.Medium, false, (ulong)seed));
            lesionShift += MeanShiftInMask(image, AnomalySynthesizer.PaintDefect(image, null, AnomalyKind.Lesion, DefectSize.Medium, false, (ulong)seed));
        }
        Assert.True(massShift / 12 < 0.12, $"a mass shifts the mean colour by {massShift / 12:P0}");
        Assert.True(massShift < lesionShift, $"mass {massShift / 12:P0} against lesion {lesionShift / 12:P0}");
        Assert.DoesNotContain(AnomalyKind.Mass, AnomalyKinds.Default);
        Assert.Equal(AnomalyKinds.All.Where(k => k != AnomalyKind.Mass), AnomalyKinds.Default);
        Assert.Equal(AnomalyKind.Mass, AnomalyKinds.Parse("mass"));
    }

    /// <summary>|mean(painted) − mean(source)| / mean(source) over the mask, summed over R, G and B.</summary>
    private static double MeanShiftInMask(AgVas.Data.RgbImage source, (AgVas.Data.RgbImage Image, AgVas.Data.BinaryMask Mask) sample)
    {
        double before = 0, after = 0;
        for (int p = 0; p < sample.Mask.Data.Length; p++)
        {
            if (!sample.Mask.Data[p]) continue;
            for (int c = 0; c < 3; c++) { before += source.Pixels[p * 3 + c]; after += sample.Image.Pixels[p * 3 + c]; }
        }
        return Math.Abs(after - before) / before;
    }

    [Fact]
    public void KindNamesRoundTrip()
    {
        foreach (var kind in AnomalyKinds.All)
        {
            Assert.True(AnomalyKinds.TryParse(AnomalyKinds.Name(kind), out var back));
            Assert.Equal(kind, back);
        }
        Assert.True(AnomalyKinds.TryParse("Colour-Spot", out var spot));
        Assert.Equal(AnomalyKind.ColourSpot, spot);
        Assert.False(AnomalyKinds.TryParse("smudge", out _));
    }
}
