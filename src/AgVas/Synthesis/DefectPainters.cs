using AgVas.Data;

namespace AgVas.Synthesis;

/// <summary>What a painter works on: the normal image, an optional second image (cut-paste source),
/// the foreground estimate and where defects may land.</summary>
public sealed record PaintInput(RgbImage Source, RgbImage? Other, Foreground.Result Foreground, bool[]? Allowed, DefectSize Size);

/// <summary>One painter per <see cref="AnomalyKind"/>. Each fills the canvas's shape (the exact mask), its
/// opacity and the target colours; <see cref="DefectCanvas.Composite"/> applies them. Painters return false
/// when the attempt produced nothing usable (e.g. the shape fell outside the allowed region).</summary>
public static class DefectPainters
{
    /// <summary>Area fraction of the image drawn for blob-like defects of each intended size.</summary>
    public static (double Min, double Max) AreaRange(DefectSize size) => size switch
    {
        DefectSize.Small => (0.0015, 0.006),
        DefectSize.Medium => (0.006, 0.025),
        _ => (0.025, 0.12),
    };

    /// <summary>Area fraction of the image drawn for lesions (<see cref="AnomalyKind.Lesion"/>) of each intended size.</summary>
    public static (double Min, double Max) LesionAreaRange(DefectSize size) => size switch
    {
        DefectSize.Small => (0.04, 0.10),
        DefectSize.Medium => (0.10, 0.22),
        _ => (0.22, 0.45),
    };

    /// <summary>Length of line-like defects (scratch, crack) as a fraction of the image side.</summary>
    public static (double Min, double Max) LengthRange(DefectSize size) => size switch
    {
        DefectSize.Small => (0.12, 0.25),
        DefectSize.Medium => (0.25, 0.45),
        _ => (0.45, 0.8),
    };

    public static bool Paint(AnomalyKind kind, PaintInput input, DefectCanvas canvas, ref SynthRandom rng)
    {
        canvas.Clear();
        bool ok = kind switch
        {
            AnomalyKind.TextureBlend => TextureBlend(input, canvas, ref rng),
            AnomalyKind.CutPaste => CutPaste(input, canvas, ref rng),
            AnomalyKind.Scratch => Stroke(input, canvas, ref rng, crack: false),
            AnomalyKind.Crack => Stroke(input, canvas, ref rng, crack: true),
            AnomalyKind.Hole => Hole(input, canvas, ref rng),
            AnomalyKind.Dent => Dent(input, canvas, ref rng),
            AnomalyKind.Stain => Stain(input, canvas, ref rng),
            AnomalyKind.ColourSpot => ColourSpot(input, canvas, ref rng),
            AnomalyKind.MissingPiece => MissingPiece(input, canvas, ref rng),
            AnomalyKind.Lesion => Lesion(input, canvas, ref rng),
            AnomalyKind.Mass => Mass(input, canvas, ref rng),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
        return ok && canvas.UpdateBox() > 0;
    }

    // ---- shared helpers ----

    private static double Scale(DefectCanvas c) => Math.Min(c.Width, c.Height) / 256.0;

    private static double BlobRadius(PaintInput input, DefectCanvas c, ref SynthRandom rng) =>
        BlobRadius(AreaRange(input.Size), c, ref rng);

    /// <summary>Radius of a disc whose area is a log-uniform fraction of the image in <paramref name="range"/> (at least 2 px).</summary>
    private static double BlobRadius((double Min, double Max) range, DefectCanvas c, ref SynthRandom rng)
    {
        var (lo, hi) = range;
        double area = Math.Exp(rng.Uniform(Math.Log(lo), Math.Log(hi))) * c.Width * c.Height;
        return Math.Max(2, Math.Sqrt(area / Math.PI));
    }

    /// <summary>A random point inside the allowed region, at least <paramref name="inset"/> pixels from the border when possible.</summary>
    private static (int X, int Y) PickPoint(PaintInput input, DefectCanvas c, ref SynthRandom rng, int inset)
    {
        inset = Math.Min(inset, Math.Min(c.Width, c.Height) / 2 - 1);
        for (int attempt = 0; attempt < 64; attempt++)
        {
            int x = rng.Next(inset, c.Width - inset), y = rng.Next(inset, c.Height - inset);
            if (input.Allowed is null || input.Allowed[y * c.Width + x]) return (x, y);
        }
        if (input.Allowed is not null)
        {
            int count = MaskOps.Count(input.Allowed);
            if (count > 0)
            {
                int k = rng.Next(count);
                for (int p = 0; p < input.Allowed.Length; p++)
                    if (input.Allowed[p] && k-- == 0) return (p % c.Width, p / c.Width);
            }
        }
        return (rng.Next(c.Width), rng.Next(c.Height));
    }

    /// <summary>Mean luma of the source in a square of half-size <paramref name="r"/> around (cx, cy).</summary>
    private static float MeanLuma(RgbImage image, int cx, int cy, int r)
    {
        double sum = 0;
        int n = 0;
        for (int y = Math.Max(0, cy - r); y <= Math.Min(image.Height - 1, cy + r); y++)
            for (int x = Math.Max(0, cx - r); x <= Math.Min(image.Width - 1, cx + r); x++)
            {
                sum += ImageOps.Luma(image.Pixels, y * image.Width + x);
                n++;
            }
        return n == 0 ? 128 : (float)(sum / n);
    }

    /// <summary>Marks a star-shaped blob: an ellipse (radii rx, ry, rotated) whose radius is perturbed by
    /// smooth angular noise of strength <paramref name="irregularity"/>. Writes the normalised radius ρ ∈ [0, 1) into Aux.</summary>
    private static void Blob(DefectCanvas c, PerlinNoise noise, double cx, double cy, double rx, double ry, double angle,
        double irregularity, float alpha)
    {
        double reach = Math.Max(rx, ry) * (1 + 2 * irregularity) + 1;
        int x0 = Math.Max(0, (int)(cx - reach)), x1 = Math.Min(c.Width - 1, (int)(cx + reach));
        int y0 = Math.Max(0, (int)(cy - reach)), y1 = Math.Min(c.Height - 1, (int)(cy + reach));
        double ca = Math.Cos(angle), sa = Math.Sin(angle);
        float ox = (float)(cx * 0.37), oy = (float)(cy * 0.41);
        for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++)
            {
                double dx = x - cx, dy = y - cy;
                double u = (dx * ca + dy * sa) / rx, v = (-dx * sa + dy * ca) / ry;
                double rho0 = Math.Sqrt(u * u + v * v);
                double phi = Math.Atan2(v, u);
                double wobble = noise.Sample((float)(Math.Cos(phi) * 1.6) + ox, (float)(Math.Sin(phi) * 1.6) + oy)
                                + 0.5 * noise.Sample((float)(Math.Cos(phi) * 3.3) + oy, (float)(Math.Sin(phi) * 3.3) + ox);
                double rho = rho0 / Math.Max(0.25, 1 + irregularity * 1.6 * wobble);
                if (rho >= 1) continue;
                int p = y * c.Width + x;
                if (!c.Shape[p] || rho < c.Aux[p]) c.Aux[p] = (float)rho;
                c.Mark(x, y, alpha);
            }
    }

    private static void FillTargetFromSourceScaled(PaintInput input, DefectCanvas c, float factor, float add)
    {
        var src = input.Source.Pixels;
        var (x0, y0, x1, y1) = c.PaintBox;
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
            {
                int p = y * c.Width + x, i = p * 3;
                c.SetTarget(p, src[i] * factor + add, src[i + 1] * factor + add, src[i + 2] * factor + add);
            }
    }

    // ---- the kinds ----

    /// <summary>DRAEM: threshold smooth noise inside a soft window; blend a foreign procedural texture with opacity β.</summary>
    private static bool TextureBlend(PaintInput input, DefectCanvas c, ref SynthRandom rng)
    {
        double r = BlobRadius(input, c, ref rng) * 1.15;
        var (cx, cy) = PickPoint(input, c, ref rng, (int)(r * 0.5));
        var noise = new PerlinNoise(ref rng);
        double period = r * rng.Uniform(0.35, 0.9), aspect = rng.Uniform(0.6, 1.6);
        double rx = r * aspect, ry = r / aspect;
        float beta = (float)rng.Uniform(0.55, 1.0);
        int reach = (int)(Math.Max(rx, ry) * 1.6) + 1;
        float ox = rng.NextFloat() * 100, oy = rng.NextFloat() * 100;
        for (int y = Math.Max(0, cy - reach); y <= Math.Min(c.Height - 1, cy + reach); y++)
            for (int x = Math.Max(0, cx - reach); x <= Math.Min(c.Width - 1, cx + reach); x++)
            {
                double u = (x - cx) / rx, v = (y - cy) / ry;
                double window = 1 - (u * u + v * v) / 1.8;
                double n = noise.Sample((float)(x / period) + ox, (float)(y / period) + oy)
                           + 0.5 * noise.Sample((float)(2 * x / period) + oy, (float)(2 * y / period) + ox);
                if (window + 0.9 * n > 0.45) c.Mark(x, y, beta);
            }
        c.Restrict(input.Allowed);
        if (c.UpdateBox() == 0) return false;
        var kinds = ProceduralTextures.AllKinds;
        var (x0, y0, x1, y1) = c.PaintBox;
        // The foreign texture only needs to cover the painted box.
        var texture = ProceduralTextures.Generate(kinds[rng.Next(kinds.Count)], Math.Max(x1 - x0, y1 - y0), ref rng);
        // Half the time the foreign texture keeps only its luminance: a grey intruder looks less cartoonish on grey
        // industrial images than a saturated one, and the model should not learn "anomaly = odd colour".
        bool grey = rng.Chance(0.5);
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
            {
                int p = y * c.Width + x, t = ((y - y0) * texture.Width + x - x0) * 3;
                if (grey)
                {
                    float l = ImageOps.Luma(texture.Pixels, t / 3);
                    c.SetTarget(p, l, l, l);
                }
                else c.SetTarget(p, texture.Pixels[t], texture.Pixels[t + 1], texture.Pixels[t + 2]);
            }
        return true;
    }

    /// <summary>CutPaste: a rectangle or blob from this image (or another), flipped and colour-jittered, pasted elsewhere.</summary>
    private static bool CutPaste(PaintInput input, DefectCanvas c, ref SynthRandom rng)
    {
        var (lo, hi) = AreaRange(input.Size);
        double area = Math.Exp(rng.Uniform(Math.Log(lo), Math.Log(hi))) * c.Width * c.Height;
        double aspect = rng.Chance(0.3) ? rng.Uniform(3, 6) : rng.Uniform(0.6, 1.7); // 30 %: CutPaste-scar-like strip
        if (rng.Chance(0.5)) aspect = 1 / aspect;
        int pw = Math.Clamp((int)Math.Sqrt(area * aspect), 3, c.Width / 2), ph = Math.Clamp((int)(area / pw), 3, c.Height / 2);
        var (cx, cy) = PickPoint(input, c, ref rng, Math.Max(pw, ph) / 2);
        int dx0 = Math.Clamp(cx - pw / 2, 0, c.Width - pw), dy0 = Math.Clamp(cy - ph / 2, 0, c.Height - ph);
        var from = input.Other is not null && rng.Chance(0.5) ? input.Other : input.Source;
        int sx0 = rng.Next(0, Math.Max(1, from.Width - pw)), sy0 = rng.Next(0, Math.Max(1, from.Height - ph));
        bool flipX = rng.Chance(0.5), flipY = rng.Chance(0.5);
        float gain = (float)rng.Uniform(0.7, 1.35), shift = (float)(rng.Uniform(18, 45) * (rng.Chance(0.5) ? 1 : -1));
        bool swap = rng.Chance(0.25);
        bool blob = rng.Chance(0.5);
        if (blob)
        {
            var noise = new PerlinNoise(ref rng);
            Blob(c, noise, dx0 + pw / 2.0, dy0 + ph / 2.0, pw / 2.0, ph / 2.0, 0, 0.15, 1f);
        }
        else
        {
            for (int y = dy0; y < dy0 + ph; y++)
                for (int x = dx0; x < dx0 + pw; x++) c.Mark(x, y, 1f);
        }
        c.Restrict(input.Allowed);
        if (c.UpdateBox() == 0) return false;
        var (x0, y0, x1, y1) = c.PaintBox;
        var sp = from.Pixels;
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
            {
                int u = x - dx0, v = y - dy0;
                if (flipX) u = pw - 1 - u;
                if (flipY) v = ph - 1 - v;
                int sx = Math.Clamp(sx0 + u, 0, from.Width - 1), sy = Math.Clamp(sy0 + v, 0, from.Height - 1);
                int s = (sy * from.Width + sx) * 3;
                float r = sp[s], g = sp[s + 1], b = sp[s + 2];
                if (swap) (r, b) = (b, r);
                float mean = (r + g + b) / 3;
                c.SetTarget(y * c.Width + x, mean + (r - mean) * gain + shift, mean + (g - mean) * gain + shift, mean + (b - mean) * gain + shift);
            }
        return true;
    }

    /// <summary>Scratch (smooth thin stroke, light or dark) or crack (jagged, branching, dark, tapering).</summary>
    private static bool Stroke(PaintInput input, DefectCanvas c, ref SynthRandom rng, bool crack)
    {
        var (lo, hi) = LengthRange(input.Size);
        double scale = Scale(c);
        double length = rng.Uniform(lo, hi) * Math.Min(c.Width, c.Height);
        double width = (crack ? rng.Uniform(1.0, 2.2) : rng.Uniform(1.0, 2.0)) * scale * (input.Size == DefectSize.Large ? 1.4 : 1);
        var (sx, sy) = PickPoint(input, c, ref rng, 4);
        // Head roughly toward the image centre so that strokes starting near a border run across the surface, not off it.
        double heading = Math.Atan2(c.Height / 2.0 - sy, c.Width / 2.0 - sx) + rng.Gaussian() * 0.9;
        float strength = (float)rng.Uniform(0.75, 1.0);
        DrawPath(c, ref rng, sx, sy, heading, length, width, strength, crack, depth: 0);
        c.Restrict(input.Allowed);
        if (c.UpdateBox() == 0) return false;
        int cx = (c.Box.X0 + c.Box.X1) / 2, cy = (c.Box.Y0 + c.Box.Y1) / 2;
        float mean = MeanLuma(input.Source, cx, cy, Math.Max(4, (int)(length / 3)));
        if (crack)
        {
            // Cracks are dark gaps; on a very dark surface they show as lighter fractured material.
            if (mean > 70) FillTargetFromSourceScaled(input, c, (float)rng.Uniform(0.1, 0.3), 0);
            else FillTargetFromSourceScaled(input, c, 0.5f, (float)rng.Uniform(90, 140));
            return true;
        }
        bool bright = mean < 100 || (mean <= 170 && rng.Chance(0.5));
        float grey = bright ? (float)rng.Uniform(200, 255) : (float)rng.Uniform(5, 50);
        float tint = (float)rng.Uniform(-12, 12);
        var (x0, y0, x1, y1) = c.PaintBox;
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++) c.SetTarget(y * c.Width + x, grey + tint, grey, grey - tint);
        return true;
    }

    private static void DrawPath(DefectCanvas c, ref SynthRandom rng, double x, double y, double heading, double length,
        double width, float strength, bool crack, int depth)
    {
        const double step = 0.5;
        int steps = (int)(length / step);
        double bend = rng.Gaussian() * (crack ? 0.004 : 0.006), turn = 0;
        int nextBranch = crack && depth < 2 ? (int)(steps * rng.Uniform(0.2, 0.7)) : int.MaxValue;
        for (int i = 0; i < steps; i++)
        {
            double direction;
            if (crack)
            {
                // jagged: every 3 px a new segment direction scattered around a slowly drifting course
                if (i % 6 == 0) turn = rng.Gaussian() * 0.6;
                heading += bend;
                direction = heading + turn;
            }
            else direction = heading += bend + rng.Gaussian() * 0.01;
            x += Math.Cos(direction) * step;
            y += Math.Sin(direction) * step;
            double along = (double)i / steps;
            double taper = crack ? 1 - 0.6 * along : Math.Min(1, Math.Min(along, 1 - along) * 8 + 0.35);
            Stamp(c, x, y, width * taper / 2, strength * (float)(crack ? 1 : Math.Min(1, taper + 0.2)));
            if (i == nextBranch)
            {
                double side = rng.Chance(0.5) ? 1 : -1;
                DrawPath(c, ref rng, x, y, heading + side * rng.Uniform(0.4, 1.1), length * rng.Uniform(0.25, 0.55),
                    width * 0.75, strength, crack, depth + 1);
                nextBranch = rng.Chance(0.4) ? i + (int)((steps - i) * rng.Uniform(0.3, 0.8)) : int.MaxValue;
            }
        }
    }

    /// <summary>Marks the pixels whose centres lie within <paramref name="radius"/> (at least the nearest pixel) of (x, y).</summary>
    private static void Stamp(DefectCanvas c, double x, double y, double radius, float alpha)
    {
        radius = Math.Max(0.5, radius);
        int x0 = (int)Math.Floor(x - radius), x1 = (int)Math.Ceiling(x + radius);
        int y0 = (int)Math.Floor(y - radius), y1 = (int)Math.Ceiling(y + radius);
        for (int py = Math.Max(0, y0); py <= Math.Min(c.Height - 1, y1); py++)
            for (int px = Math.Max(0, x0); px <= Math.Min(c.Width - 1, x1); px++)
            {
                double dx = px - x, dy = py - y;
                if (dx * dx + dy * dy <= radius * radius) c.Mark(px, py, alpha);
            }
        int nx = (int)Math.Round(x), ny = (int)Math.Round(y);
        if (nx >= 0 && ny >= 0 && nx < c.Width && ny < c.Height) c.Mark(nx, ny, alpha);
    }

    /// <summary>Hole: dark round cavity, darkest at the centre, with the far inner wall lit.</summary>
    private static bool Hole(PaintInput input, DefectCanvas c, ref SynthRandom rng)
    {
        double r = BlobRadius(input, c, ref rng) * 0.9;
        var (cx, cy) = PickPoint(input, c, ref rng, (int)r);
        var noise = new PerlinNoise(ref rng);
        double aspect = rng.Uniform(0.8, 1.25);
        Blob(c, noise, cx, cy, r * aspect, r / aspect, rng.Uniform(0, Math.PI), rng.Uniform(0.05, 0.2), 1f);
        c.Restrict(input.Allowed);
        if (c.UpdateBox() == 0) return false;
        double light = rng.Uniform(0, 2 * Math.PI);
        float lx = (float)Math.Cos(light), ly = (float)Math.Sin(light);
        float depth = (float)rng.Uniform(0.08, 0.25);
        float mean = MeanLuma(input.Source, cx, cy, (int)r + 2);
        float rimGain = mean < 60 ? 2.2f : 1.3f;
        var src = input.Source.Pixels;
        var (x0, y0, x1, y1) = c.PaintBox;
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
            {
                int p = y * c.Width + x, i = p * 3;
                float rho = c.Shape[p] ? c.Aux[p] : 1f;
                float dx = (float)(x - cx), dy = (float)(y - cy), len = MathF.Max(1e-3f, MathF.Sqrt(dx * dx + dy * dy));
                // the wall opposite the light catches it: a bright crescent near the rim
                float lit = MathF.Max(0, (dx * lx + dy * ly) / len) * MathF.Max(0, (rho - 0.6f) / 0.4f);
                float shade = depth + (1 - depth) * 0.5f * rho * rho;
                float k = shade * (1 - lit) + rimGain * lit;
                c.SetTarget(p, src[i] * k + 25 * lit, src[i + 1] * k + 25 * lit, src[i + 2] * k + 25 * lit);
            }
        return true;
    }

    /// <summary>Dent or bump: a smooth height field lit from one side (one flank bright, the other dark) over a slight overall change.</summary>
    private static bool Dent(PaintInput input, DefectCanvas c, ref SynthRandom rng)
    {
        double r = BlobRadius(input, c, ref rng);
        var (cx, cy) = PickPoint(input, c, ref rng, (int)r);
        var noise = new PerlinNoise(ref rng);
        double aspect = rng.Uniform(0.7, 1.4), angle = rng.Uniform(0, Math.PI);
        Blob(c, noise, cx, cy, r * aspect, r / aspect, angle, rng.Uniform(0.05, 0.15), 1f);
        c.Restrict(input.Allowed);
        if (c.UpdateBox() == 0) return false;
        double light = rng.Uniform(0, 2 * Math.PI);
        float lx = (float)Math.Cos(light), ly = (float)Math.Sin(light);
        float sign = rng.Chance(0.6) ? 1 : -1; // dent (concave) or bump (convex)
        float mean = MeanLuma(input.Source, cx, cy, (int)r + 2);
        // The dented area as a whole is a little darker (bright surfaces) or brighter (dark ones); the additive part keeps
        // the change visible on nearly black pixels, where a gain alone does nothing.
        bool darken = mean > 128;
        float baseGain = darken ? 0.8f : 1.2f, offset = darken ? -10 : 10, relief = (float)rng.Uniform(0.12, 0.3);
        var src = input.Source.Pixels;
        var (x0, y0, x1, y1) = c.PaintBox;
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
            {
                int p = y * c.Width + x, i = p * 3;
                float rho = c.Shape[p] ? c.Aux[p] : 1f;
                float dx = (float)(x - cx), dy = (float)(y - cy), len = MathF.Max(1e-3f, MathF.Sqrt(dx * dx + dy * dy));
                // slope of h(ρ) = (1 − ρ²)² along the radial direction, projected on the light
                float slope = 4 * rho * (1 - rho * rho);
                float facing = sign * slope * (dx * lx + dy * ly) / len;
                // Clamped so the whole dent moves one way: where a two-sided relief crossed over from darker to
                // brighter, a band of pixels stayed unchanged inside the mask.
                float k = baseGain * (1 + relief * facing);
                k = darken ? Math.Min(0.9f, k) : Math.Max(1.1f, k);
                float add = offset + 6 * facing;
                c.SetTarget(p, src[i] * k + add, src[i + 1] * k + add, src[i + 2] * k + add);
            }
        return true;
    }

    /// <summary>Stain: an irregular translucent blot of a dirt colour, more opaque at its rim (coffee-ring effect).</summary>
    private static bool Stain(PaintInput input, DefectCanvas c, ref SynthRandom rng)
    {
        double r = BlobRadius(input, c, ref rng);
        var (cx, cy) = PickPoint(input, c, ref rng, (int)(r * 0.5));
        var noise = new PerlinNoise(ref rng);
        double aspect = rng.Uniform(0.6, 1.6);
        Blob(c, noise, cx, cy, r * aspect, r / aspect, rng.Uniform(0, Math.PI), rng.Uniform(0.25, 0.5), 1f);
        c.Restrict(input.Allowed);
        if (c.UpdateBox() == 0) return false;
        var palette = rng.Next(5) switch
        {
            0 => ImageOps.Hsv(rng.Uniform(20, 38), rng.Uniform(0.5, 0.85), rng.Uniform(0.15, 0.45)), // brown / coffee
            1 => ImageOps.Hsv(rng.Uniform(40, 58), rng.Uniform(0.4, 0.8), rng.Uniform(0.5, 0.85)), // yellowish
            2 => ImageOps.Hsv(0, 0, rng.Uniform(0.05, 0.3)), // oil / soot
            3 => ImageOps.Hsv(rng.Uniform(8, 24), rng.Uniform(0.65, 0.9), rng.Uniform(0.35, 0.6)), // rust
            _ => ImageOps.Hsv(rng.Uniform(70, 140), rng.Uniform(0.3, 0.6), rng.Uniform(0.2, 0.5)), // mould
        };
        float baseAlpha = (float)rng.Uniform(0.5, 0.8);
        float ox = rng.NextFloat() * 50, oy = rng.NextFloat() * 50, period = (float)Math.Max(3, r / 2);
        var (x0, y0, x1, y1) = c.PaintBox;
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
            {
                int p = y * c.Width + x;
                c.SetTarget(p, palette.R, palette.G, palette.B);
                if (!c.Shape[p]) continue;
                float rho = c.Aux[p];
                float mottle = 0.15f * noise.Sample(x / period + ox, y / period + oy);
                float ring = rho > 0.8f ? 0.2f * (rho - 0.8f) / 0.2f : 0;
                c.Alpha[p] = Math.Clamp(baseAlpha + mottle + ring, 0.35f, 1f);
            }
        return true;
    }

    /// <summary>Colour spots: one to five small saturated blobs of a foreign colour, clustered or scattered.</summary>
    private static bool ColourSpot(PaintInput input, DefectCanvas c, ref SynthRandom rng)
    {
        int count = rng.Chance(0.5) ? 1 : rng.Next(2, 6);
        double r = BlobRadius(input, c, ref rng) / Math.Sqrt(count);
        var noise = new PerlinNoise(ref rng);
        var (cx, cy) = PickPoint(input, c, ref rng, (int)r + 2);
        double spread = Math.Min(c.Width, c.Height) * rng.Uniform(0.05, 0.25);
        for (int k = 0; k < count; k++)
        {
            double x = k == 0 ? cx : Math.Clamp(cx + rng.Gaussian() * spread, r, c.Width - r);
            double y = k == 0 ? cy : Math.Clamp(cy + rng.Gaussian() * spread, r, c.Height - r);
            double rk = r * rng.Uniform(0.6, 1.3);
            Blob(c, noise, x, y, rk, rk * rng.Uniform(0.75, 1.0), rng.Uniform(0, Math.PI), 0.12, (float)rng.Uniform(0.75, 1.0));
        }
        c.Restrict(input.Allowed);
        if (c.UpdateBox() == 0) return false;
        // A hue far from the local surface's, fully saturated.
        int i0 = (cy * c.Width + cx) * 3;
        var sp = input.Source.Pixels;
        double localHue = HueOf(sp[i0], sp[i0 + 1], sp[i0 + 2]);
        var colour = ImageOps.Hsv(localHue + rng.Uniform(90, 270), rng.Uniform(0.7, 1.0), rng.Uniform(0.55, 1.0));
        var (x0, y0, x1, y1) = c.PaintBox;
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++) c.SetTarget(y * c.Width + x, colour.R, colour.G, colour.B);
        return true;
    }

    private static double HueOf(byte r, byte g, byte b)
    {
        double max = Math.Max(r, Math.Max(g, b)), min = Math.Min(r, Math.Min(g, b)), d = max - min;
        if (d < 1) return 0;
        double h = max == r ? (g - b) / d % 6 : max == g ? (b - r) / d + 2 : (r - g) / d + 4;
        return h * 60;
    }

    /// <summary>Missing piece: on an object, a bite out of its outline filled with the background colour (the mask is
    /// the bitten part of the object); on a texture, a punched-through gap showing a dark or light backing.</summary>
    private static bool MissingPiece(PaintInput input, DefectCanvas c, ref SynthRandom rng)
    {
        double r = BlobRadius(input, c, ref rng) * 1.2;
        var noise = new PerlinNoise(ref rng);
        var fg = input.Foreground;
        float tr, tg, tb;
        if (fg.IsObject)
        {
            var (bx, by) = PickOutlinePoint(fg.Mask, c.Width, c.Height, ref rng);
            if (bx < 0) return false;
            Blob(c, noise, bx, by, r * rng.Uniform(0.8, 1.3), r * rng.Uniform(0.8, 1.3), rng.Uniform(0, Math.PI), rng.Uniform(0.1, 0.35), 1f);
            c.Restrict(fg.Mask);
            (tr, tg, tb) = (fg.BorderColour.R, fg.BorderColour.G, fg.BorderColour.B);
        }
        else
        {
            var (cx, cy) = PickPoint(input, c, ref rng, (int)r);
            Blob(c, noise, cx, cy, r * rng.Uniform(0.7, 1.4), r * rng.Uniform(0.7, 1.4), rng.Uniform(0, Math.PI), rng.Uniform(0.15, 0.4), 1f);
            c.Restrict(input.Allowed);
            float mean = MeanLuma(input.Source, cx, cy, (int)r);
            float v = mean > 90 ? (float)rng.Uniform(5, 30) : (float)rng.Uniform(200, 240);
            (tr, tg, tb) = (v, v, v);
        }
        if (c.UpdateBox() == 0) return false;
        var (x0, y0, x1, y1) = c.PaintBox;
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
            {
                int p = y * c.Width + x;
                float e = (float)((rng.NextUInt64() >> 40) * (1.0 / (1 << 24)) * 6 - 3);
                // A lighter chipped edge where the material broke off (texture case: Aux holds the blob radius ρ).
                float chip = !fg.IsObject && c.Shape[p] && c.Aux[p] > 0.85f ? 45 : 0;
                c.SetTarget(p, tr + e + chip, tg + e + chip, tb + e + chip);
            }
        return true;
    }

    /// <summary>A random foreground pixel with a background 4-neighbour, or (-1, -1) when the mask has no outline.</summary>
    private static (int X, int Y) PickOutlinePoint(bool[] fg, int w, int h, ref SynthRandom rng)
    {
        int count = 0;
        for (int pass = 0; pass < 2; pass++)
        {
            int k = pass == 1 ? rng.Next(count) : -1;
            for (int y = 1; y < h - 1; y++)
                for (int x = 1; x < w - 1; x++)
                {
                    int p = y * w + x;
                    if (!fg[p] || (fg[p - 1] && fg[p + 1] && fg[p - w] && fg[p + w])) continue;
                    if (pass == 0) count++;
                    else if (k-- == 0) return (x, y);
                }
            if (count == 0) return (-1, -1);
        }
        return (-1, -1);
    }

    /// <summary>The shape shared by lesions and masses: a smooth blob of a lesion's area band (radius r, centre (cx, cy),
    /// aspect and edge irregularity drawn from the given ranges, in that order), restricted to the allowed region.
    /// False when nothing of it is left.</summary>
    private static bool LesionBlob(PaintInput input, DefectCanvas c, ref SynthRandom rng, (double Min, double Max) aspectRange,
        (double Min, double Max) irregularity, out double r, out int cx, out int cy, out PerlinNoise noise)
    {
        r = BlobRadius(LesionAreaRange(input.Size), c, ref rng);
        (cx, cy) = PickPoint(input, c, ref rng, (int)(r * 0.7));
        noise = new PerlinNoise(ref rng);
        double aspect = rng.Uniform(aspectRange.Min, aspectRange.Max);
        Blob(c, noise, cx, cy, r * aspect, r / aspect, rng.Uniform(0, Math.PI), rng.Uniform(irregularity.Min, irregularity.Max), 1f);
        c.Restrict(input.Allowed);
        return c.UpdateBox() > 0;
    }

    /// <summary>Lesion: a large smooth-edged blob whose inside is pigmented (darker, tinted brown to grey, darkest at
    /// its core), a raised mass (redder and brighter, shaded by a light direction) or a texture change (the surface
    /// smoothed by a box blur and darkened, with a faint speckle). Mottled by smooth noise so it is not flat paint.</summary>
    private static bool Lesion(PaintInput input, DefectCanvas c, ref SynthRandom rng)
    {
        if (!LesionBlob(input, c, ref rng, (0.7, 1.4), (0.08, 0.35), out double r, out int cx, out int cy, out var noise)) return false;
        var src = input.Source.Pixels;
        var (x0, y0, x1, y1) = c.PaintBox;
        float ox = rng.NextFloat() * 50, oy = rng.NextFloat() * 50, period = (float)Math.Max(4, r / 3);
        switch (rng.Next(3))
        {
            case 0: // pigmented: multiply towards a dark tint, darker towards the core
            {
                var tint = ImageOps.Hsv(rng.Uniform(10, 40), rng.Uniform(0.3, 0.8), 1.0);
                float gain = (float)rng.Uniform(0.35, 0.7), core = (float)rng.Uniform(0.0, 0.3);
                for (int y = y0; y < y1; y++)
                    for (int x = x0; x < x1; x++)
                    {
                        int p = y * c.Width + x, i = p * 3;
                        float rho = c.Shape[p] ? c.Aux[p] : 1f;
                        float k = gain * (1 - core * (1 - rho)) * (1 + 0.2f * noise.Sample(x / period + ox, y / period + oy));
                        c.SetTarget(p, src[i] * k * tint.R / 255f - 6, src[i + 1] * k * tint.G / 255f - 6, src[i + 2] * k * tint.B / 255f - 6);
                    }
                break;
            }
            case 1: // raised mass: redder, brighter, shaded as a bump under one light
            {
                double light = rng.Uniform(0, 2 * Math.PI);
                float lx = (float)Math.Cos(light), ly = (float)Math.Sin(light);
                float red = (float)rng.Uniform(1.1, 1.4), dim = (float)rng.Uniform(0.65, 0.9), lift = (float)rng.Uniform(6, 24);
                for (int y = y0; y < y1; y++)
                    for (int x = x0; x < x1; x++)
                    {
                        int p = y * c.Width + x, i = p * 3;
                        float rho = c.Shape[p] ? c.Aux[p] : 1f;
                        float dx = (float)(x - cx), dy = (float)(y - cy), len = MathF.Max(1e-3f, MathF.Sqrt(dx * dx + dy * dy));
                        float shade = 1 + 0.35f * 4 * rho * (1 - rho * rho) * (dx * lx + dy * ly) / len
                                      + 0.12f * noise.Sample(x / period + ox, y / period + oy);
                        c.SetTarget(p, (src[i] * red + lift) * shade, (src[i + 1] * dim + lift * 0.3f) * shade, (src[i + 2] * dim + lift * 0.3f) * shade);
                    }
                break;
            }
            default: // texture change: the surface blurred (its texture gone), darkened, with a faint speckle
            {
                int k = Math.Max(2, (int)(r / 6));
                float gain = (float)rng.Uniform(0.3, 0.7);
                for (int y = y0; y < y1; y++)
                    for (int x = x0; x < x1; x++)
                    {
                        int p = y * c.Width + x;
                        var (mr, mg, mb) = BoxMean(input.Source, x, y, k);
                        float speckle = 8 * noise.Sample(x * 0.7f + ox, y * 0.7f + oy);
                        c.SetTarget(p, mr * gain + speckle - 8, mg * gain + speckle - 8, mb * gain + speckle - 8);
                    }
                break;
            }
        }
        return true;
    }

    /// <summary>Mass: a dome grown from the surface. Inside a smooth blob the source is sampled closer to the centre,
    /// at c + (p − c)·(z + (1 − z)ρ²) with z in [0.5, 0.85], so that the surface is magnified at the top and meets the
    /// surroundings seamlessly at the rim; it is shaded by the dome's slope under one light, darkened towards its foot,
    /// and on half of the masses carries specular highlights near the top. The colour changes by a few per cent.</summary>
    private static bool Mass(PaintInput input, DefectCanvas c, ref SynthRandom rng)
    {
        if (!LesionBlob(input, c, ref rng, (0.75, 1.33), (0.05, 0.2), out double r, out int cx, out int cy, out var noise)) return false;
        var source = input.Source;
        double light = rng.Uniform(0, 2 * Math.PI);
        float lx = (float)Math.Cos(light), ly = (float)Math.Sin(light);
        float zoom = (float)rng.Uniform(0.5, 0.85), relief = (float)rng.Uniform(0.25, 0.5), foot = (float)rng.Uniform(0.15, 0.4);
        float gain = (float)rng.Uniform(0.95, 1.15);
        float tr = (float)rng.Uniform(0.94, 1.08), tg = (float)rng.Uniform(0.92, 1.04), tb = (float)rng.Uniform(0.92, 1.04);
        bool shiny = rng.Chance(0.5);
        float ox = rng.NextFloat() * 50, oy = rng.NextFloat() * 50, period = (float)Math.Max(2, r / 5);
        var (x0, y0, x1, y1) = c.PaintBox;
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
            {
                int p = y * c.Width + x;
                float rho = c.Shape[p] ? c.Aux[p] : 1f;
                float dx = (float)(x - cx), dy = (float)(y - cy), len = MathF.Max(1e-3f, MathF.Sqrt(dx * dx + dy * dy));
                float k = zoom + (1 - zoom) * rho * rho;
                var (sr, sg, sb) = Bilinear(source, (float)cx + dx * k, (float)cy + dy * k);
                float slope = 4 * rho * (1 - rho * rho);
                float footShade = rho < 0.7f ? 0 : (rho - 0.7f) / 0.3f;
                float shade = gain * (1 + relief * slope * (dx * lx + dy * ly) / len) * (1 - foot * footShade * footShade);
                float rr = sr * shade * tr, gg = sg * shade * tg, bb = sb * shade * tb;
                if (shiny && rho < 0.65f)
                {
                    float s = Math.Clamp((noise.Sample(x / period + ox, y / period + oy) - 0.35f) / 0.1f, 0, 1);
                    rr += s * (255 - rr); gg += s * (255 - gg); bb += s * (255 - bb);
                }
                c.SetTarget(p, rr, gg, bb);
            }
        return true;
    }

    /// <summary>The source's colour at a real-valued position, bilinearly interpolated, clamped at the borders.</summary>
    private static (float R, float G, float B) Bilinear(RgbImage image, float x, float y)
    {
        x = Math.Clamp(x, 0, image.Width - 1.001f);
        y = Math.Clamp(y, 0, image.Height - 1.001f);
        int x0 = (int)x, y0 = (int)y;
        float fx = x - x0, fy = y - y0;
        var px = image.Pixels;
        int i00 = (y0 * image.Width + x0) * 3, i10 = i00 + 3, i01 = i00 + image.Width * 3, i11 = i01 + 3;
        float Mix(int c) => (px[i00 + c] * (1 - fx) + px[i10 + c] * fx) * (1 - fy) + (px[i01 + c] * (1 - fx) + px[i11 + c] * fx) * fy;
        return (Mix(0), Mix(1), Mix(2));
    }

    /// <summary>Mean colour of the source over a square of half-size <paramref name="r"/> around (cx, cy), sampled on a
    /// stride so that the cost stays bounded for large r.</summary>
    private static (float R, float G, float B) BoxMean(RgbImage image, int cx, int cy, int r)
    {
        int step = Math.Max(1, r / 4);
        double sr = 0, sg = 0, sb = 0;
        int n = 0;
        for (int y = Math.Max(0, cy - r); y <= Math.Min(image.Height - 1, cy + r); y += step)
            for (int x = Math.Max(0, cx - r); x <= Math.Min(image.Width - 1, cx + r); x += step)
            {
                int i = (y * image.Width + x) * 3;
                sr += image.Pixels[i]; sg += image.Pixels[i + 1]; sb += image.Pixels[i + 2];
                n++;
            }
        return ((float)(sr / n), (float)(sg / n), (float)(sb / n));
    }

}
