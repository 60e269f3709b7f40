namespace AgVas.Synthesis;

/// <summary>Morphology and connected components on row-major boolean masks ([H, W]).</summary>
public static class MaskOps
{
    /// <summary>Dilation by a (2r+1)² square (Chebyshev radius <paramref name="radius"/>), separable.</summary>
    public static bool[] Dilate(ReadOnlySpan<bool> mask, int width, int height, int radius)
    {
        var outp = new bool[mask.Length];
        Dilate(mask, outp, width, height, radius);
        return outp;
    }

    /// <summary>Dilation into <paramref name="output"/> (may not alias <paramref name="mask"/>).</summary>
    public static void Dilate(ReadOnlySpan<bool> mask, Span<bool> output, int width, int height, int radius)
    {
        if (radius <= 0) { mask.CopyTo(output); return; }
        // Sliding-window counts of true pixels: horizontal pass, then vertical.
        var tmp = new bool[mask.Length];
        for (int y = 0; y < height; y++)
        {
            int row = y * width, count = 0;
            for (int k = 0; k <= Math.Min(radius, width - 1); k++) if (mask[row + k]) count++;
            for (int x = 0; x < width; x++)
            {
                tmp[row + x] = count > 0;
                int enter = x + radius + 1, leave = x - radius;
                if (enter < width && mask[row + enter]) count++;
                if (leave >= 0 && mask[row + leave]) count--;
            }
        }
        for (int x = 0; x < width; x++)
        {
            int count = 0;
            for (int k = 0; k <= Math.Min(radius, height - 1); k++) if (tmp[k * width + x]) count++;
            for (int y = 0; y < height; y++)
            {
                output[y * width + x] = count > 0;
                int enter = y + radius + 1, leave = y - radius;
                if (enter < height && tmp[enter * width + x]) count++;
                if (leave >= 0 && tmp[leave * width + x]) count--;
            }
        }
    }

    /// <summary>Erosion by a (2r+1)² square; pixels outside the image count as false.</summary>
    public static bool[] Erode(ReadOnlySpan<bool> mask, int width, int height, int radius)
    {
        var inv = new bool[mask.Length];
        for (int i = 0; i < inv.Length; i++) inv[i] = !mask[i];
        // pad: outside counts as "background", so dilating the complement must also grow from the border
        var dil = Dilate(inv, width, height, radius);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                if (x < radius || y < radius || x >= width - radius || y >= height - radius) dil[y * width + x] = true;
        for (int i = 0; i < dil.Length; i++) dil[i] = !dil[i];
        return dil;
    }

    /// <summary>Labels 8-connected regions: returns the label per pixel (0 = background, 1..n) and n.</summary>
    public static (int[] Labels, int Count) Label8(ReadOnlySpan<bool> mask, int width, int height)
    {
        var labels = new int[mask.Length];
        var stack = new Stack<int>();
        int n = 0;
        for (int start = 0; start < mask.Length; start++)
        {
            if (!mask[start] || labels[start] != 0) continue;
            n++;
            labels[start] = n;
            stack.Push(start);
            while (stack.Count > 0)
            {
                int p = stack.Pop();
                int px = p % width, py = p / width;
                for (int dy = -1; dy <= 1; dy++)
                {
                    int y = py + dy;
                    if ((uint)y >= (uint)height) continue;
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int x = px + dx;
                        if ((uint)x >= (uint)width) continue;
                        int q = y * width + x;
                        if (mask[q] && labels[q] == 0)
                        {
                            labels[q] = n;
                            stack.Push(q);
                        }
                    }
                }
            }
        }
        return (labels, n);
    }

    /// <summary>Fills background holes: background pixels not 4-connected to the image border become true.</summary>
    public static void FillHoles(bool[] mask, int width, int height)
    {
        var outside = new bool[mask.Length];
        var stack = new Stack<int>();
        void Seed(int p) { if (!mask[p] && !outside[p]) { outside[p] = true; stack.Push(p); } }
        for (int x = 0; x < width; x++) { Seed(x); Seed((height - 1) * width + x); }
        for (int y = 0; y < height; y++) { Seed(y * width); Seed(y * width + width - 1); }
        while (stack.Count > 0)
        {
            int p = stack.Pop();
            int x = p % width, y = p / width;
            if (x > 0) Seed(p - 1);
            if (x < width - 1) Seed(p + 1);
            if (y > 0) Seed(p - width);
            if (y < height - 1) Seed(p + width);
        }
        for (int i = 0; i < mask.Length; i++) if (!outside[i]) mask[i] = true;
    }

    public static int Count(ReadOnlySpan<bool> mask)
    {
        int n = 0;
        foreach (var v in mask) if (v) n++;
        return n;
    }
}
