using AgVas.Synthesis;

namespace AgVas.Tests.Synthesis;

/// <summary>Procedural tissue: deterministic, mucosa that is red and shines, skin that is warm and matte, resolvable by name.</summary>
public class TissueSourceTests
{
    [Fact]
    public void TissueIsDeterministicAndDiffersBySeed()
    {
        var source = new TissueSource();
        for (int item = 0; item < source.Count; item++)
        {
            var a = source.Load(item, 96, 42).Image.Pixels;
            Assert.Equal(a, source.Load(item, 96, 42).Image.Pixels);
            Assert.NotEqual(a, source.Load(item, 96, 43).Image.Pixels);
        }
        Assert.Equal(TissueSource.MucosaCategory, source.Load(0, 32, 1).Category);
        Assert.Equal(TissueSource.SkinCategory, source.Load(1, 32, 1).Category);
        Assert.Throws<ArgumentOutOfRangeException>(() => source.Load(2, 32, 1));
    }

    [Fact]
    public void MucosaIsRedWithHighlightsAndSkinIsWarmWithout()
    {
        // Over 20 seeds: the mean colour is red-dominant for both (mucosa and skin are R > G, R > B), mucosa has specular
        // highlights (near-white pixels) in most images and a lumen (its darkest 2 % under half the median) in many, while skin has neither.
        var source = new TissueSource();
        int shiny = 0, dark = 0, skinShiny = 0;
        for (int seed = 0; seed < 20; seed++)
        {
            var mucosa = source.Load(0, 128, (ulong)seed).Image.Pixels;
            var skin = source.Load(1, 128, (ulong)seed).Image.Pixels;
            foreach (var px in new[] { mucosa, skin })
            {
                var (r, g, b) = Mean(px);
                Assert.True(r > g && r > b, $"seed {seed}: mean colour {r:F0}, {g:F0}, {b:F0} is not red-dominant");
            }
            if (Fraction(mucosa, (r, g, b) => Math.Min(r, Math.Min(g, b)) > 235) > 0.0005) shiny++;
            if (Percentile(mucosa, 0.02) < 0.5 * Percentile(mucosa, 0.5)) dark++;
            if (Fraction(skin, (r, g, b) => Math.Min(r, Math.Min(g, b)) > 235) > 0.0005) skinShiny++;
        }
        Assert.True(shiny >= 12, $"{shiny} of 20 mucosa images have highlights");
        Assert.True(dark >= 5, $"{dark} of 20 mucosa images have a dark lumen");
        Assert.True(skinShiny <= 2, $"{skinShiny} of 20 skin images have highlights");
    }

    [Fact]
    public void TissueResolvesByName() => Assert.IsType<TissueSource>(NormalSources.Resolve("Tissue"));

    private static (double R, double G, double B) Mean(byte[] px)
    {
        double r = 0, g = 0, b = 0;
        for (int i = 0; i < px.Length; i += 3) { r += px[i]; g += px[i + 1]; b += px[i + 2]; }
        int n = px.Length / 3;
        return (r / n, g / n, b / n);
    }

    /// <summary>The <paramref name="q"/>-quantile of the pixels' R + G + B.</summary>
    private static int Percentile(byte[] px, double q)
    {
        var sums = new int[px.Length / 3];
        for (int p = 0; p < sums.Length; p++) sums[p] = px[p * 3] + px[p * 3 + 1] + px[p * 3 + 2];
        Array.Sort(sums);
        return sums[(int)(q * (sums.Length - 1))];
    }

    private static double Fraction(byte[] px, Func<int, int, int, bool> test)
    {
        int hits = 0;
        for (int i = 0; i < px.Length; i += 3) if (test(px[i], px[i + 1], px[i + 2])) hits++;
        return hits / (px.Length / 3.0);
    }
}
