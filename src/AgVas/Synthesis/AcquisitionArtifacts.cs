using AgVas.Data;

namespace AgVas.Synthesis;

/// <summary>What an imaging set-up adds to every picture it takes, defect or not (beyond the paper): the dark corners of
/// a circular field of view (dermoscopes, endoscopes, microscopes), black frame bars, vignetting, specular glare on wet
/// or shiny surfaces, and burned-in text and caliper marks (ultrasound, inspection cameras). Drawn on the normal image
/// <em>before</em> any defect and never part of the mask, they teach the model that such content is normal: without
/// them a model trained on clean textures reads the darkest or brightest corner of a clinical image as its anomaly.</summary>
public static class AcquisitionArtifacts
{
    public enum Kind { Aperture, Frame, Vignette, Glare, Overlay }

    public static readonly IReadOnlyList<Kind> All = Enum.GetValues<Kind>();

    /// <summary>Draws 1–3 distinct artifacts (uniformly chosen) on <paramref name="image"/> in place; returns them.</summary>
    public static IReadOnlyList<Kind> Apply(RgbImage image, ulong seed)
    {
        var rng = new SynthRandom(seed);
        var order = All.ToArray();
        for (int i = order.Length - 1; i > 0; i--)                                   // Fisher–Yates
        {
            int j = rng.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        var kinds = order[..rng.Next(1, 4)];
        foreach (var kind in kinds) Draw(kind, image, ref rng);
        return kinds;
    }

    public static void Draw(Kind kind, RgbImage image, ref SynthRandom rng)
    {
        switch (kind)
        {
            case Kind.Aperture: Aperture(image, ref rng); break;
            case Kind.Frame: Frame(image, ref rng); break;
            case Kind.Vignette: Vignette(image, ref rng); break;
            case Kind.Glare: Glare(image, ref rng); break;
            case Kind.Overlay: Overlay(image, ref rng); break;
            default: throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    /// <summary>A near-black surround outside an ellipse of radius 0.42–0.65 × side (so some corner is always dark) (centre jittered by up to 8 %),
    /// with a soft rim of 1–6 % of the side.</summary>
    private static void Aperture(RgbImage image, ref SynthRandom rng)
    {
        int w = image.Width, h = image.Height, side = Math.Min(w, h);
        double cx = w * (0.5 + rng.Uniform(-0.08, 0.08)), cy = h * (0.5 + rng.Uniform(-0.08, 0.08));
        double r = side * rng.Uniform(0.42, 0.65), aspect = rng.Uniform(0.9, 1.1), soft = Math.Max(1, side * rng.Uniform(0.01, 0.06));
        float dark = (float)rng.Uniform(0, 25);
        var px = image.Pixels;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double dx = (x + 0.5 - cx) * aspect, dy = (y + 0.5 - cy) / aspect;
                double inside = Math.Clamp((r - Math.Sqrt(dx * dx + dy * dy)) / soft + 0.5, 0, 1);    // 1 inside, 0 outside
                if (inside >= 1) continue;
                Blend(px, (y * w + x) * 3, dark, dark, dark, (float)(1 - inside));
            }
    }

    /// <summary>Dark bars (0–30 grey) 2–12 % of the side wide along one to four edges.</summary>
    private static void Frame(RgbImage image, ref SynthRandom rng)
    {
        int w = image.Width, h = image.Height, side = Math.Min(w, h);
        int edges = rng.Next(1, 16);                                                   // a non-empty subset of 4 edges
        float dark = (float)rng.Uniform(0, 30);
        var px = image.Pixels;
        for (int e = 0; e < 4; e++)
        {
            if ((edges >> e & 1) == 0) continue;
            int depth = Math.Max(1, (int)(side * rng.Uniform(0.02, 0.12)));
            var (x0, x1, y0, y1) = e switch                                         // the bar's rectangle
            {
                0 => (0, depth, 0, h),
                1 => (w - depth, w, 0, h),
                2 => (0, w, 0, depth),
                _ => (0, w, h - depth, h),
            };
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++) Blend(px, (y * w + x) * 3, dark, dark, dark, 1);
        }
    }

    /// <summary>Radial fall-off: brightness × (1 − s·(d/d_max)^p), s in [0.25, 0.65], p in [1.5, 3].</summary>
    private static void Vignette(RgbImage image, ref SynthRandom rng)
    {
        int w = image.Width, h = image.Height;
        double cx = w * (0.5 + rng.Uniform(-0.1, 0.1)), cy = h * (0.5 + rng.Uniform(-0.1, 0.1));
        double strength = rng.Uniform(0.25, 0.65), power = rng.Uniform(1.5, 3);
        double dmax = Math.Sqrt(Math.Max(cx, w - cx) * Math.Max(cx, w - cx) + Math.Max(cy, h - cy) * Math.Max(cy, h - cy));
        var px = image.Pixels;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double d = Math.Sqrt((x + 0.5 - cx) * (x + 0.5 - cx) + (y + 0.5 - cy) * (y + 0.5 - cy)) / dmax;
                float gain = (float)(1 - strength * Math.Pow(d, power));
                int p = (y * w + x) * 3;
                for (int c = 0; c < 3; c++) px[p + c] = ImageOps.ToByte(px[p + c] * gain);
            }
    }

    /// <summary>1–12 specular highlights: small (0.3–1.5 % of the side) elongated white spots with a saturated core and a
    /// soft halo, in clusters as on a wet surface.</summary>
    private static void Glare(RgbImage image, ref SynthRandom rng)
    {
        int w = image.Width, h = image.Height, side = Math.Min(w, h);
        int spots = rng.Next(1, 13);
        double clusterX = rng.Uniform(0.15, 0.85) * w, clusterY = rng.Uniform(0.15, 0.85) * h;
        var px = image.Pixels;
        for (int s = 0; s < spots; s++)
        {
            double cx = clusterX + rng.Gaussian() * side * 0.1, cy = clusterY + rng.Gaussian() * side * 0.1;
            double r = Math.Max(1, side * rng.Uniform(0.003, 0.015)), angle = rng.Uniform(0, Math.PI), stretch = rng.Uniform(1, 3);
            double cos = Math.Cos(angle), sin = Math.Sin(angle);
            int reach = (int)Math.Ceiling(r * stretch * 2) + 1;
            for (int y = Math.Max(0, (int)cy - reach); y < Math.Min(h, (int)cy + reach); y++)
                for (int x = Math.Max(0, (int)cx - reach); x < Math.Min(w, (int)cx + reach); x++)
                {
                    double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
                    double u = (dx * cos + dy * sin) / (r * stretch), v = (-dx * sin + dy * cos) / r;
                    double d = Math.Sqrt(u * u + v * v);                                      // 1 on the core's rim
                    float a = (float)(d <= 1 ? 1 : Math.Exp(-3 * (d - 1) * (d - 1) * 4));
                    if (a < 0.02f) continue;
                    Blend(px, (y * w + x) * 3, 252, 252, 250, a);
                }
        }
    }

    private const string OverlayAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 :./-";

    /// <summary>Burned-in annotations: 1–3 short labels (3–10 characters of the built-in font) near the corners, and
    /// 0–4 caliper crosses, in white, yellow, green or cyan.</summary>
    private static void Overlay(RgbImage image, ref SynthRandom rng)
    {
        int w = image.Width, h = image.Height;
        (byte, byte, byte)[] colours = [(255, 255, 255), (250, 230, 60), (60, 220, 90), (80, 220, 240)];
        var colour = colours[rng.Next(colours.Length)];
        int labels = rng.Next(1, 4);
        for (int i = 0; i < labels; i++)
        {
            var chars = new char[rng.Next(3, 11)];
            for (int k = 0; k < chars.Length; k++) chars[k] = OverlayAlphabet[rng.Next(OverlayAlphabet.Length)];
            var text = new string(chars);
            int textWidth = text.Length * BitmapFont.Advance;
            int x = rng.Chance(0.5) ? rng.Next(2, Math.Max(3, w / 8)) : Math.Max(0, w - textWidth - rng.Next(2, Math.Max(3, w / 8)));
            int y = rng.Chance(0.5) ? rng.Next(2, Math.Max(3, h / 8)) : Math.Max(0, h - BitmapFont.GlyphHeight - rng.Next(2, Math.Max(3, h / 8)));
            BitmapFont.Draw(image.Pixels, w, h, x, y, text, colour);
        }
        int crosses = rng.Next(0, 5);
        for (int i = 0; i < crosses; i++)
        {
            int cx = rng.Next(w), cy = rng.Next(h), arm = rng.Next(2, 5);
            for (int d = -arm; d <= arm; d++)
            {
                Set(image, cx + d, cy, colour);
                Set(image, cx, cy + d, colour);
            }
        }
    }

    private static void Set(RgbImage image, int x, int y, (byte R, byte G, byte B) c)
    {
        if ((uint)x >= (uint)image.Width || (uint)y >= (uint)image.Height) return;
        int p = (y * image.Width + x) * 3;
        image.Pixels[p] = c.R;
        image.Pixels[p + 1] = c.G;
        image.Pixels[p + 2] = c.B;
    }

    private static void Blend(byte[] px, int p, float r, float g, float b, float a)
    {
        px[p] = ImageOps.ToByte(px[p] + (r - px[p]) * a);
        px[p + 1] = ImageOps.ToByte(px[p + 1] + (g - px[p + 1]) * a);
        px[p + 2] = ImageOps.ToByte(px[p + 2] + (b - px[p + 2]) * a);
    }
}
