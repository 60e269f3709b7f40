using AgVas.Data;

namespace AgVas.Synthesis;

/// <summary>The procedural normal surfaces (an extra source of defect-free images).</summary>
public enum TextureKind { Noise, Stripes, Weave, Grid, Grain, Marble, Dots, Brushed, Cells }

/// <summary>Generates defect-free procedural textures: a two-colour pattern (value t in [0, 1] per pixel mixes
/// two related colours) plus fine sensor-like grain. Everything comes from the caller's random stream.</summary>
public static class ProceduralTextures
{
    public static IReadOnlyList<TextureKind> AllKinds { get; } = Enum.GetValues<TextureKind>();

    /// <summary>Category name of a texture kind in datasets and manifests, e.g. "texture_weave".</summary>
    public static string CategoryName(TextureKind kind) => "texture_" + kind.ToString().ToLowerInvariant();

    /// <summary>A <paramref name="size"/>² texture of <paramref name="kind"/>.</summary>
    public static RgbImage Generate(TextureKind kind, int size, ref SynthRandom rng)
    {
        int n = size * size;
        var t = new float[n];
        var noise = new PerlinNoise(ref rng);
        switch (kind)
        {
            case TextureKind.Noise:
                noise.Fill(t, size, size, (float)rng.Uniform(size / 8.0, size / 2.5), 4);
                Squash(t, (float)rng.Uniform(0.25, 0.5));
                break;
            case TextureKind.Stripes:
            {
                var warp = new float[n];
                noise.Fill(warp, size, size, size / 2f, 3);
                double angle = rng.Uniform(0, Math.PI), period = rng.Uniform(6, 24), k = rng.Uniform(0, 2.5);
                float c = (float)Math.Cos(angle), s = (float)Math.Sin(angle);
                for (int y = 0; y < size; y++)
                    for (int x = 0; x < size; x++)
                    {
                        int p = y * size + x;
                        t[p] = 0.5f + 0.5f * MathF.Sin((float)(2 * Math.PI * ((x * c + y * s) / period + k * warp[p] * 0.3)));
                    }
                break;
            }
            case TextureKind.Weave:
            {
                int cell = rng.Next(6, 16);
                float gap = (float)rng.Uniform(0.08, 0.2);
                for (int y = 0; y < size; y++)
                    for (int x = 0; x < size; x++)
                    {
                        int cx = x / cell, cy = y / cell;
                        float fx = (float)(x % cell) / cell, fy = (float)(y % cell) / cell;
                        bool horizontal = ((cx + cy) & 1) == 0;
                        float across = horizontal ? fy : fx, along = horizontal ? fx : fy;
                        float profile = MathF.Sin(MathF.PI * across); // round thread
                        float edge = across < gap || across > 1 - gap ? 0.2f : 1f;
                        t[y * size + x] = Math.Clamp(0.15f + 0.7f * profile * edge + 0.1f * MathF.Sin(MathF.PI * 2 * along), 0, 1);
                    }
                break;
            }
            case TextureKind.Grid:
            {
                int period = rng.Next(10, 40), width = rng.Next(1, Math.Max(2, period / 6));
                int ox = rng.Next(period), oy = rng.Next(period);
                for (int y = 0; y < size; y++)
                    for (int x = 0; x < size; x++)
                    {
                        int dx = (x + ox) % period, dy = (y + oy) % period;
                        t[y * size + x] = dx < width || dy < width ? 1f : 0.1f;
                    }
                break;
            }
            case TextureKind.Grain:
            {
                noise.Fill(t, size, size, size / 3f, 3);
                double cx = rng.Uniform(-size, 2 * size), cy = rng.Uniform(-3 * size, -size), period = rng.Uniform(5, 14);
                for (int y = 0; y < size; y++)
                    for (int x = 0; x < size; x++)
                    {
                        int p = y * size + x;
                        double d = Math.Sqrt((x - cx) * (x - cx) * 0.15 + (y - cy) * (y - cy)) / period + t[p] * 1.5;
                        float f = (float)(d - Math.Floor(d));
                        t[p] = f * f;
                    }
                break;
            }
            case TextureKind.Marble:
            {
                noise.Fill(t, size, size, size / 4f, 5);
                double f = rng.Uniform(0.02, 0.06), k = rng.Uniform(2, 5);
                for (int y = 0; y < size; y++)
                    for (int x = 0; x < size; x++)
                    {
                        int p = y * size + x;
                        t[p] = MathF.Pow(0.5f + 0.5f * MathF.Sin((float)(x * f + y * f * 0.4 + k * t[p])), 3);
                    }
                break;
            }
            case TextureKind.Dots:
            {
                int period = rng.Next(10, 28);
                float radius = (float)(period * rng.Uniform(0.18, 0.35));
                bool staggered = rng.Chance(0.5);
                for (int y = 0; y < size; y++)
                    for (int x = 0; x < size; x++)
                    {
                        int row = y / period;
                        float sx = x + (staggered && (row & 1) == 1 ? period / 2f : 0);
                        float dx = sx % period - period / 2f, dy = y % period - period / 2f;
                        float d = MathF.Sqrt(dx * dx + dy * dy);
                        t[y * size + x] = Math.Clamp(radius + 0.7f - d, 0, 1);
                    }
                break;
            }
            case TextureKind.Brushed:
            {
                bool vertical = rng.Chance(0.5);
                noise.Fill(t, size, size, vertical ? 1.5f : size * 2f, vertical ? size * 2f : 1.5f, 2);
                Squash(t, 0.2f);
                break;
            }
            case TextureKind.Cells:
            {
                // Worley noise on a jittered grid (one seed per cell, wrapping): distance to the nearest seed edge.
                int grid = rng.Next(3, 9);
                float cell = (float)size / grid;
                var sx = new float[grid * grid];
                var sy = new float[grid * grid];
                for (int i = 0; i < sx.Length; i++)
                {
                    sx[i] = ((i % grid) + (float)rng.Uniform(0.1, 0.9)) * cell;
                    sy[i] = ((i / grid) + (float)rng.Uniform(0.1, 0.9)) * cell;
                }
                for (int y = 0; y < size; y++)
                    for (int x = 0; x < size; x++)
                    {
                        int gx = (int)(x / cell), gy = (int)(y / cell);
                        float d1 = float.MaxValue, d2 = float.MaxValue;
                        for (int j = -1; j <= 1; j++)
                            for (int i = -1; i <= 1; i++)
                            {
                                int cx = gx + i, cy = gy + j;
                                float shiftX = cx < 0 ? -size : cx >= grid ? size : 0, shiftY = cy < 0 ? -size : cy >= grid ? size : 0;
                                int k = ((cy + grid) % grid) * grid + (cx + grid) % grid;
                                float dx = x - (sx[k] + shiftX), dy = y - (sy[k] + shiftY);
                                float d = dx * dx + dy * dy;
                                if (d < d1) { d2 = d1; d1 = d; } else if (d < d2) d2 = d;
                            }
                        t[y * size + x] = Math.Clamp((MathF.Sqrt(d2) - MathF.Sqrt(d1)) / (0.35f * cell), 0, 1);
                    }
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown texture kind");
        }
        return Colourise(t, size, ref rng);
    }

    /// <summary>Maps a zero-mean field to [0, 1] with a soft clip of width <paramref name="spread"/>.</summary>
    private static void Squash(float[] field, float spread)
    {
        for (int i = 0; i < field.Length; i++) field[i] = 0.5f + 0.5f * MathF.Tanh(field[i] * spread * 2);
    }

    private static RgbImage Colourise(float[] t, int size, ref SynthRandom rng)
    {
        double hue = rng.Uniform(0, 360), sat = rng.Chance(0.8) ? rng.Uniform(0.0, 0.3) : rng.Uniform(0.3, 0.55), val = rng.Uniform(0.3, 0.85);
        double contrast = rng.Uniform(0.15, 0.45) * (rng.Chance(0.5) ? 1 : -1);
        var (r0, g0, b0) = ImageOps.Hsv(hue, sat, val);
        var (r1, g1, b1) = ImageOps.Hsv(hue + rng.Uniform(-25, 25), Math.Clamp(sat + rng.Uniform(-0.15, 0.15), 0, 1), Math.Clamp(val + contrast, 0.05, 1));
        float grain = (float)rng.Uniform(1.5, 6);
        var image = new RgbImage(size, size);
        var px = image.Pixels;
        for (int p = 0; p < t.Length; p++)
        {
            float v = t[p], e = grain * (float)((rng.NextUInt64() >> 40) * (1.0 / (1 << 24)) * 2 - 1);
            px[p * 3] = ImageOps.ToByte(r0 + v * (r1 - r0) + e);
            px[p * 3 + 1] = ImageOps.ToByte(g0 + v * (g1 - g0) + e);
            px[p * 3 + 2] = ImageOps.ToByte(b0 + v * (b1 - b0) + e);
        }
        return image;
    }
}
