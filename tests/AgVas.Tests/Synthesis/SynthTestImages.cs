using AgVas.Data;
using AgVas.Synthesis;

namespace AgVas.Tests.Synthesis;

/// <summary>Small deterministic inputs for synthesis tests.</summary>
internal static class SynthTestImages
{
    /// <summary>A procedural texture of the given kind.</summary>
    public static RgbImage Texture(TextureKind kind, int size, ulong seed)
    {
        var rng = new SynthRandom(seed);
        return ProceduralTextures.Generate(kind, size, ref rng);
    }

    /// <summary>A shaded disc ("object") of radius 0.3·size on a flat background, plus mild noise.</summary>
    public static RgbImage Object(int size, ulong seed)
    {
        var rng = new SynthRandom(seed);
        var image = new RgbImage(size, size);
        double c = size / 2.0, r = size * 0.3;
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                double d = Math.Sqrt((x - c) * (x - c) + (y - c) * (y - c));
                int i = (y * size + x) * 3;
                double n = rng.Uniform(-3, 3);
                if (d < r)
                {
                    double shade = 1 - 0.3 * d / r;
                    image.Pixels[i] = ImageOps.ToByte(190 * shade + n);
                    image.Pixels[i + 1] = ImageOps.ToByte(150 * shade + n);
                    image.Pixels[i + 2] = ImageOps.ToByte(90 * shade + n);
                }
                else
                {
                    image.Pixels[i] = ImageOps.ToByte(40 + n);
                    image.Pixels[i + 1] = ImageOps.ToByte(60 + n);
                    image.Pixels[i + 2] = ImageOps.ToByte(70 + n);
                }
            }
        return image;
    }

    /// <summary>An image of one flat grey level.</summary>
    public static RgbImage Flat(int width, int height, byte grey)
    {
        var image = new RgbImage(width, height);
        Array.Fill(image.Pixels, grey);
        return image;
    }
}
