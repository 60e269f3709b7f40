namespace AgVas.Synthesis;

/// <summary>2-D gradient (Perlin) noise with fractal octaves, as DRAEM uses to shape its anomaly masks.
/// Each instance draws its own gradient table from a seed; <c>Fill</c> writes a whole field at once.</summary>
public sealed class PerlinNoise
{
    private const int TableSize = 256;
    private readonly float[] _gx = new float[TableSize];
    private readonly float[] _gy = new float[TableSize];
    private readonly byte[] _perm = new byte[TableSize * 2];

    public PerlinNoise(ref SynthRandom rng)
    {
        for (int i = 0; i < TableSize; i++)
        {
            double a = rng.NextDouble() * 2 * Math.PI;
            _gx[i] = (float)Math.Cos(a);
            _gy[i] = (float)Math.Sin(a);
            _perm[i] = (byte)i;
        }
        for (int i = TableSize - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (_perm[i], _perm[j]) = (_perm[j], _perm[i]);
        }
        Array.Copy(_perm, 0, _perm, TableSize, TableSize);
    }

    /// <summary>Noise at (x, y) in lattice units, roughly in [-0.7, 0.7].</summary>
    public float Sample(float x, float y)
    {
        int xi = (int)MathF.Floor(x), yi = (int)MathF.Floor(y);
        float fx = x - xi, fy = y - yi;
        int x0 = xi & 255, y0 = yi & 255, x1 = (x0 + 1) & 255, y1 = (y0 + 1) & 255;
        float u = Fade(fx), v = Fade(fy);
        float n00 = Dot(_perm[_perm[x0] + y0], fx, fy);
        float n10 = Dot(_perm[_perm[x1] + y0], fx - 1, fy);
        float n01 = Dot(_perm[_perm[x0] + y1], fx, fy - 1);
        float n11 = Dot(_perm[_perm[x1] + y1], fx - 1, fy - 1);
        float a = n00 + u * (n10 - n00);
        float b = n01 + u * (n11 - n01);
        return a + v * (b - a);
    }

    private float Dot(int g, float dx, float dy) => _gx[g] * dx + _gy[g] * dy;

    private static float Fade(float t) => t * t * t * (t * (t * 6 - 15) + 10);

    /// <summary>Fills <paramref name="field"/> ([H, W]) with fractal noise: <paramref name="octaves"/> octaves
    /// starting at <paramref name="periodPx"/> pixels per lattice cell, each half the period and amplitude.
    /// The result is normalised to zero mean and unit standard deviation.</summary>
    public void Fill(Span<float> field, int width, int height, float periodPx, int octaves, float offsetX = 0, float offsetY = 0) =>
        Fill(field, width, height, periodPx, periodPx, octaves, offsetX, offsetY);

    /// <summary>As <see cref="Fill(Span{float}, int, int, float, int, float, float)"/> with separate periods along x and y (anisotropic noise, e.g. brushed metal).
    /// Octaves whose period spans many pixels are evaluated on a coarser grid (at least four samples per period) and
    /// interpolated bilinearly — the noise is smooth at that scale and this makes a full field several times cheaper.</summary>
    public void Fill(Span<float> field, int width, int height, float periodX, float periodY, int octaves, float offsetX = 0, float offsetY = 0)
    {
        if (field.Length != width * height) throw new ArgumentException("field size must be width*height", nameof(field));
        field.Clear();
        float amp = 1f, px = periodX, py = periodY;
        float[]? coarse = null;
        for (int o = 0; o < octaves; o++)
        {
            float ox = offsetX + o * 17.31f, oy = offsetY + o * 5.77f, fx = 1f / px, fy = 1f / py;
            int sx = Math.Clamp((int)(px / 4), 1, 16), sy = Math.Clamp((int)(py / 4), 1, 16);
            if (sx == 1 && sy == 1)
            {
                for (int y = 0; y < height; y++)
                {
                    int row = y * width;
                    float ny = y * fy + oy;
                    for (int x = 0; x < width; x++) field[row + x] += amp * Sample(x * fx + ox, ny);
                }
            }
            else
            {
                int cw = (width - 1) / sx + 2, ch = (height - 1) / sy + 2;
                if (coarse is null || coarse.Length < cw * ch) coarse = new float[cw * ch];
                for (int j = 0; j < ch; j++)
                    for (int i = 0; i < cw; i++) coarse[j * cw + i] = Sample(i * sx * fx + ox, j * sy * fy + oy);
                float isx = 1f / sx, isy = 1f / sy;
                for (int y = 0; y < height; y++)
                {
                    int j = y / sy, row = y * width;
                    float v = (y - j * sy) * isy;
                    for (int x = 0; x < width; x++)
                    {
                        int i = x / sx;
                        float u = (x - i * sx) * isx;
                        int c = j * cw + i;
                        float top = coarse[c] + u * (coarse[c + 1] - coarse[c]);
                        float bottom = coarse[c + cw] + u * (coarse[c + cw + 1] - coarse[c + cw]);
                        field[row + x] += amp * (top + v * (bottom - top));
                    }
                }
            }
            amp *= 0.5f;
            px *= 0.5f;
            py *= 0.5f;
        }
        Normalise(field);
    }

    /// <summary>Rescales <paramref name="field"/> to zero mean and unit standard deviation (no-op for a constant field).</summary>
    public static void Normalise(Span<float> field)
    {
        double sum = 0, sq = 0;
        foreach (var v in field) { sum += v; sq += (double)v * v; }
        double mean = sum / field.Length;
        double std = Math.Sqrt(Math.Max(0, sq / field.Length - mean * mean));
        if (std < 1e-9) { field.Clear(); return; }
        float m = (float)mean, s = (float)(1 / std);
        for (int i = 0; i < field.Length; i++) field[i] = (field[i] - m) * s;
    }
}
