using AgVas.Data;
using AgVas.Synthesis;

namespace AgVas.Tests.Synthesis;

public class AcquisitionArtifactsTests
{
    private static RgbImage Grey(int size, byte level = 128)
    {
        var px = new byte[size * size * 3];
        Array.Fill(px, level);
        return new RgbImage(size, size, px);
    }

    private static AnomalySynthesizer Make(double artifactRatio, double normalRatio = 0.3) =>
        new([new ProceduralSource()], new SynthesisOptions(Size: 64, NormalRatio: normalRatio, Seed: 21, ArtifactRatio: artifactRatio));

    [Fact]
    public void EachKindChangesTheImageWhereExpectedAndIsAFunctionOfTheSeed()
    {
        foreach (var kind in AcquisitionArtifacts.All)
        {
            var a = Grey(96);
            var b = Grey(96);
            var rngA = new SynthRandom(5);
            var rngB = new SynthRandom(5);
            AcquisitionArtifacts.Draw(kind, a, ref rngA);
            AcquisitionArtifacts.Draw(kind, b, ref rngB);
            Assert.Equal(a.Pixels, b.Pixels);
            Assert.True(a.Pixels.Any(v => v != 128), $"{kind} left the image unchanged");
            byte Centre(RgbImage im) => im.Pixels[(48 * 96 + 48) * 3];
            byte Corner(RgbImage im) => new[] { 0, 95, 95 * 96, 95 * 96 + 95 }.Select(p => im.Pixels[p * 3]).Min();
            switch (kind)
            {
                case AcquisitionArtifacts.Kind.Aperture:                     // dark outside the field of view, untouched inside
                    Assert.Equal(128, Centre(a));
                    Assert.True(Corner(a) <= 30, $"aperture corner {Corner(a)}");
                    break;
                case AcquisitionArtifacts.Kind.Vignette:                     // darker towards the corners
                    Assert.True(Corner(a) < Centre(a) - 20, $"vignette corner {Corner(a)}, centre {Centre(a)}");
                    break;
                case AcquisitionArtifacts.Kind.Frame:                        // only dark bars at the edges
                    Assert.Equal(128, Centre(a));
                    Assert.All(a.Pixels, v => Assert.True(v == 128 || v <= 30));
                    break;
                case AcquisitionArtifacts.Kind.Glare:                        // brighter only, up to near-white
                    Assert.All(a.Pixels, v => Assert.True(v >= 128));
                    Assert.True(a.Pixels.Max() >= 240);
                    break;
            }
        }
    }

    [Fact]
    public void ArtifactsAreOutsideTheMaskAndDoNotChangeWhatIsDrawn()
    {
        var plain = Make(0);
        var withArtifacts = Make(1);
        int changedNormals = 0;
        for (int i = 0; i < 24; i++)
        {
            var x = plain.Generate(i);
            var y = withArtifacts.Generate(i);
            // The same source, kind and size per index: artifacts draw from their own stream.
            Assert.Equal((x.Category, x.Defect, x.Kind, x.Size), (y.Category, y.Defect, y.Kind, y.Size));
            Assert.Equal(y.Image.Pixels, Make(1).Generate(i).Image.Pixels);
            if (!y.IsAnomalous)
            {
                Assert.Equal(0, y.Mask.CountPositive());
                if (!x.Image.Pixels.SequenceEqual(y.Image.Pixels)) changedNormals++;
            }
        }
        Assert.True(changedNormals > 0);
    }

    [Fact]
    public void RatioOutOfRangeIsRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Make(1.5));
}
