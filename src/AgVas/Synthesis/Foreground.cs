using AgVas.Data;

namespace AgVas.Synthesis;

/// <summary>Estimates the object's foreground from the image alone: pixels whose colour differs from the
/// border colour (per-channel median of the one-pixel frame) by more than a threshold adapted to the
/// border's own spread, cleaned by closing and opening, restricted to the largest region and hole-filled.
/// When no clear object stands out (foreground under <see cref="MinObjectFraction"/> or over
/// <see cref="MaxObjectFraction"/> of the image) the image is taken to be a texture and the whole frame is foreground.</summary>
public static class Foreground
{
    /// <summary>Below this fraction of the image the estimate is treated as noise (texture: all foreground).</summary>
    public const double MinObjectFraction = 0.03;
    /// <summary>Above this fraction the object fills the frame (texture: all foreground).</summary>
    public const double MaxObjectFraction = 0.92;
    /// <summary>Lowest colour distance (sum of absolute channel differences) that counts as "not background".</summary>
    public const int MinThreshold = 36;

    /// <summary>The foreground estimate and whether an object was found (false: texture, every pixel true).</summary>
    public readonly record struct Result(bool[] Mask, bool IsObject, (byte R, byte G, byte B) BorderColour);

    public static Result Estimate(RgbImage image)
    {
        int w = image.Width, h = image.Height, n = w * h;
        var px = image.Pixels;
        var border = BorderPixels(w, h);
        var colour = (Median(px, border, 0), Median(px, border, 1), Median(px, border, 2));
        var borderDist = new int[border.Length];
        for (int i = 0; i < border.Length; i++) borderDist[i] = Distance(px, border[i], colour);
        Array.Sort(borderDist);
        int threshold = Math.Max(MinThreshold, (int)(borderDist[(int)(borderDist.Length * 0.95)] * 1.5));
        var fg = new bool[n];
        for (int p = 0; p < n; p++) fg[p] = Distance(px, p, colour) > threshold;
        int r = Math.Max(1, w / 128);
        fg = MaskOps.Erode(MaskOps.Dilate(fg, w, h, 2 * r), w, h, 2 * r); // close small gaps
        fg = MaskOps.Dilate(MaskOps.Erode(fg, w, h, r), w, h, r); // drop specks
        var (labels, count) = MaskOps.Label8(fg, w, h);
        if (count > 1)
        {
            var sizes = new int[count + 1];
            foreach (var l in labels) sizes[l]++;
            int best = 1;
            for (int l = 2; l <= count; l++) if (sizes[l] > sizes[best]) best = l;
            for (int p = 0; p < n; p++) fg[p] = labels[p] == best;
        }
        MaskOps.FillHoles(fg, w, h);
        double frac = (double)MaskOps.Count(fg) / n;
        if (frac < MinObjectFraction || frac > MaxObjectFraction)
        {
            Array.Fill(fg, true);
            return new Result(fg, false, colour);
        }
        return new Result(fg, true, colour);
    }

    private static int Distance(byte[] px, int p, (byte R, byte G, byte B) c) =>
        Math.Abs(px[p * 3] - c.R) + Math.Abs(px[p * 3 + 1] - c.G) + Math.Abs(px[p * 3 + 2] - c.B);

    private static int[] BorderPixels(int w, int h)
    {
        var list = new List<int>(2 * (w + h));
        for (int x = 0; x < w; x++) { list.Add(x); if (h > 1) list.Add((h - 1) * w + x); }
        for (int y = 1; y < h - 1; y++) { list.Add(y * w); if (w > 1) list.Add(y * w + w - 1); }
        return list.ToArray();
    }

    private static byte Median(byte[] px, int[] pixels, int channel)
    {
        Span<int> hist = stackalloc int[256];
        foreach (var p in pixels) hist[px[p * 3 + channel]]++;
        int half = pixels.Length / 2, acc = 0;
        for (int v = 0; v < 256; v++)
        {
            acc += hist[v];
            if (acc > half) return (byte)v;
        }
        return 255;
    }
}
