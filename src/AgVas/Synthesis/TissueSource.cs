using AgVas.Data;

namespace AgVas.Synthesis;

/// <summary>
/// Procedural tissue: defect-free biological surfaces, the medical counterpart of <see cref="SceneSource"/>. Item 0 is
/// mucosa as an endoscope sees it: a pink-to-red wet surface, lit from the camera so that it darkens towards the lumen,
/// with folds, a fine vessel network, a granular surface and specular highlights. Item 1 is skin as a dermoscope sees
/// it: a beige-to-brown surface with mottling, pores, creases and sometimes hairs. Everything in them is normal
/// anatomy or optics: they teach the model that the lumen's shadow, a fold, a vessel or a highlight is not a lesion,
/// so that a lesion painted on them (<see cref="AnomalyKind.Lesion"/>) is told apart by what it is, not by the scene.
/// Item i's look is fixed; the seed draws its colours, geometry and noise.
/// </summary>
public sealed class TissueSource : INormalSource
{
    public const string MucosaCategory = "tissue_mucosa";
    public const string SkinCategory = "tissue_skin";

    public string Name => "tissue";
    public int Count => 2;

    public NormalImage Load(int index, int size, ulong seed)
    {
        if ((uint)index >= Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"tissue has {Count} items");
        var rng = new SynthRandom(seed);
        return index == 0
            ? new NormalImage(Mucosa(size, ref rng), MucosaCategory, "procedural")
            : new NormalImage(Skin(size, ref rng), SkinCategory, "procedural");
    }

    // Fields are [size, size] floats; colours are linear 0–255 RGB before the final clamp.

    private static RgbImage Mucosa(int size, ref SynthRandom rng)
    {
        int n = size * size;
        var noise = new PerlinNoise(ref rng);
        var (br, bg, bb) = ImageOps.Hsv(rng.Uniform(-15, 25), rng.Uniform(0.35, 0.75), rng.Uniform(0.6, 0.95));
        var (vr, vg, vb) = ImageOps.Hsv(rng.Uniform(-10, 10), rng.Uniform(0.6, 0.9), rng.Uniform(0.3, 0.6)); // vessel colour

        var light = new float[n];       // illumination: slow variation times the lumen's shadow
        noise.Fill(light, size, size, size / 1.5f, 2, 11, 7);
        float slow = (float)rng.Uniform(0.05, 0.15);
        bool lumen = rng.Chance(0.75);
        double lx = size * rng.Uniform(-0.1, 1.1), ly = size * rng.Uniform(-0.1, 1.1), lr = size * rng.Uniform(0.12, 0.4);
        double depth = rng.Uniform(0.5, 0.97);

        var folds = new float[n];       // fold lines: the zero crossings of a smooth field
        noise.Fill(folds, size, size, (float)(size / rng.Uniform(2.0, 4.5)), 2, 31, 3);
        float foldWidth = (float)rng.Uniform(0.04, 0.1), foldDark = (float)rng.Uniform(0.1, 0.4);
        var vessels = new float[n];     // vessels: thin zero crossings of a finer field, only where a mask allows
        noise.Fill(vessels, size, size, (float)(size / rng.Uniform(6.0, 14.0)), 3, 53, 17);
        var vesselMask = new float[n];
        noise.Fill(vesselMask, size, size, size / 3f, 2, 71, 41);
        float vesselStrength = (float)rng.Uniform(0.15, 0.6), vesselWidth = (float)rng.Uniform(0.02, 0.05);
        var grain = new float[n];       // granular mucosal surface
        noise.Fill(grain, size, size, Math.Max(2f, size / (float)rng.Uniform(25, 60)), 2, 97, 13);
        float grainAmp = (float)rng.Uniform(0.02, 0.08);
        var shine = new float[n];       // specular highlights: the tops of a fine field, where the surface is wet
        noise.Fill(shine, size, size, Math.Max(2f, size / (float)rng.Uniform(12, 30)), 2, 5, 89);
        var wet = new float[n];
        noise.Fill(wet, size, size, size / 2.5f, 1, 61, 23);
        float shineCut = (float)rng.Uniform(1.6, 2.6), shineSoft = 0.35f;
        bool shiny = rng.Chance(0.85);

        var image = new RgbImage(size, size);
        var px = image.Pixels;
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                int p = y * size + x;
                float l = 1 + slow * light[p];
                if (lumen)
                {
                    double dx = (x - lx) / lr, dy = (y - ly) / lr;
                    l *= (float)(1 - depth * Math.Exp(-(dx * dx + dy * dy)));
                }
                float fold = MathF.Exp(-folds[p] * folds[p] / (foldWidth * foldWidth));
                l *= 1 - foldDark * fold;
                l *= 1 + grainAmp * grain[p];
                float v = MathF.Exp(-vessels[p] * vessels[p] / (vesselWidth * vesselWidth)) * Math.Clamp(vesselMask[p] + 0.3f, 0, 1) * vesselStrength;
                float r = ((1 - v) * br + v * vr) * l, g = ((1 - v) * bg + v * vg) * l, b = ((1 - v) * bb + v * vb) * l;
                if (shiny)
                {
                    float s = Math.Clamp((shine[p] - shineCut + shineSoft) / shineSoft, 0, 1) * Math.Clamp(wet[p] + 0.5f, 0, 1) * MathF.Min(1, 2 * l);
                    r += s * (255 - r); g += s * (255 - g); b += s * (255 - b);
                }
                float e = 3 * (float)rng.Gaussian();
                px[p * 3] = ImageOps.ToByte(r + e);
                px[p * 3 + 1] = ImageOps.ToByte(g + e);
                px[p * 3 + 2] = ImageOps.ToByte(b + e);
            }
        return image;
    }

    private static RgbImage Skin(int size, ref SynthRandom rng)
    {
        int n = size * size;
        var noise = new PerlinNoise(ref rng);
        var (br, bg, bb) = ImageOps.Hsv(rng.Uniform(12, 35), rng.Uniform(0.15, 0.55), rng.Uniform(0.55, 0.95));
        var mottle = new float[n];      // uneven pigmentation and redness
        noise.Fill(mottle, size, size, size / (float)rng.Uniform(3, 8), 3, 3, 19);
        float mottleAmp = (float)rng.Uniform(0.03, 0.1), redden = (float)rng.Uniform(0, 0.08);
        var pores = new float[n];
        noise.Fill(pores, size, size, Math.Max(2f, size / (float)rng.Uniform(40, 90)), 1, 43, 29);
        float poreAmp = (float)rng.Uniform(0.02, 0.06);
        double angle = rng.Uniform(0, Math.PI);  // creases: anisotropic noise along one direction, rotated
        var crease = new float[n];
        noise.Fill(crease, size, size, size / 40f, size / 4f, 2, 37, 59);
        float creaseAmp = (float)rng.Uniform(0.02, 0.08);

        var image = new RgbImage(size, size);
        var px = image.Pixels;
        float cos = (float)Math.Cos(angle), sin = (float)Math.Sin(angle);
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                int p = y * size + x;
                // Crease value at the rotated position, read from the field by nearest sample (it is smooth along y).
                int rx = Math.Clamp((int)(size / 2 + (x - size / 2) * cos - (y - size / 2) * sin), 0, size - 1);
                int ry = Math.Clamp((int)(size / 2 + (x - size / 2) * sin + (y - size / 2) * cos), 0, size - 1);
                float l = (1 + mottleAmp * mottle[p]) * (1 + poreAmp * pores[p]) * (1 - creaseAmp * MathF.Max(0, crease[ry * size + rx]));
                float red = 1 + redden * MathF.Max(0, mottle[p]);
                float e = 2.5f * (float)rng.Gaussian();
                px[p * 3] = ImageOps.ToByte(br * l * red + e);
                px[p * 3 + 1] = ImageOps.ToByte(bg * l + e);
                px[p * 3 + 2] = ImageOps.ToByte(bb * l + e);
            }

        // Hairs: a few dark, thin quadratic curves across the field, anti-aliased by distance; their coverage is
        // accumulated as a maximum first, so that overlapping stamps along a curve do not darken it twice.
        int hairs = rng.Chance(0.5) ? rng.Next(1, 9) : 0;
        if (hairs == 0) return image;
        var cover = new float[n];
        for (int h = 0; h < hairs; h++)
        {
            double x0 = rng.Uniform(-0.2, 1.2) * size, y0 = rng.Uniform(-0.2, 1.2) * size;
            double x2 = rng.Uniform(-0.2, 1.2) * size, y2 = rng.Uniform(-0.2, 1.2) * size;
            double x1 = (x0 + x2) / 2 + rng.Uniform(-0.3, 0.3) * size, y1 = (y0 + y2) / 2 + rng.Uniform(-0.3, 0.3) * size;
            double width = Math.Max(0.6, size * rng.Uniform(0.002, 0.006));
            int r = (int)Math.Ceiling(width + 1), steps = 2 * size;
            for (int k = 0; k <= steps; k++)
            {
                double t = (double)k / steps, u = 1 - t;
                double cx = u * u * x0 + 2 * u * t * x1 + t * t * x2, cy = u * u * y0 + 2 * u * t * y1 + t * t * y2;
                for (int yy = (int)cy - r; yy <= (int)cy + r; yy++)
                    for (int xx = (int)cx - r; xx <= (int)cx + r; xx++)
                    {
                        if ((uint)xx >= (uint)size || (uint)yy >= (uint)size) continue;
                        double d = Math.Sqrt((xx + 0.5 - cx) * (xx + 0.5 - cx) + (yy + 0.5 - cy) * (yy + 0.5 - cy));
                        int p = yy * size + xx;
                        cover[p] = MathF.Max(cover[p], (float)Math.Clamp(width - d + 0.5, 0, 1));
                    }
            }
        }
        float keep = 1 - (float)rng.Uniform(0.4, 0.75);   // a hair's darkness: the fraction of light it lets through
        for (int p = 0; p < n; p++)
            if (cover[p] > 0)
                for (int c = 0; c < 3; c++)
                    px[p * 3 + c] = ImageOps.ToByte(px[p * 3 + c] * (1 - cover[p] * (1 - keep)));
        return image;
    }
}
