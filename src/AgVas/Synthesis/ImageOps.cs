using AgVas.Data;

namespace AgVas.Synthesis;

/// <summary>Small pixel operations on <see cref="RgbImage"/> byte buffers used by synthesis and curation.</summary>
public static class ImageOps
{
    /// <summary>Centre-crops <paramref name="image"/> to a square and resizes it to <paramref name="size"/>²
    /// (area averaging when shrinking, bilinear when enlarging). Returns the input itself when nothing changes.</summary>
    public static RgbImage SquareResize(RgbImage image, int size)
    {
        int side = Math.Min(image.Width, image.Height);
        int x0 = (image.Width - side) / 2, y0 = (image.Height - side) / 2;
        if (side == size && image.Width == image.Height) return image;
        return Resize(image, x0, y0, side, side, size, size);
    }

    /// <summary>Resizes the crop (<paramref name="cx"/>, <paramref name="cy"/>, <paramref name="cw"/>, <paramref name="ch"/>) to <paramref name="width"/>×<paramref name="height"/>.</summary>
    public static RgbImage Resize(RgbImage image, int cx, int cy, int cw, int ch, int width, int height)
    {
        // Separable resampling: horizontal pass into a float buffer [ch, width, 3], then vertical.
        var tmp = new float[ch * width * 3];
        var (xi, xw) = Weights(cw, width);
        for (int y = 0; y < ch; y++)
        {
            int srcRow = ((cy + y) * image.Width + cx) * 3;
            for (int x = 0; x < width; x++)
            {
                float r = 0, g = 0, b = 0;
                for (int k = xi[x].Start; k < xi[x].End; k++)
                {
                    float w = xw[k];
                    int s = srcRow + (xi[x].First + k - xi[x].Start) * 3;
                    r += w * image.Pixels[s];
                    g += w * image.Pixels[s + 1];
                    b += w * image.Pixels[s + 2];
                }
                int t = (y * width + x) * 3;
                tmp[t] = r;
                tmp[t + 1] = g;
                tmp[t + 2] = b;
            }
        }
        var (yi, yw) = Weights(ch, height);
        var output = new RgbImage(width, height);
        var dst = output.Pixels;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                float r = 0, g = 0, b = 0;
                for (int k = yi[y].Start; k < yi[y].End; k++)
                {
                    float w = yw[k];
                    int s = ((yi[y].First + k - yi[y].Start) * width + x) * 3;
                    r += w * tmp[s];
                    g += w * tmp[s + 1];
                    b += w * tmp[s + 2];
                }
                int d = (y * width + x) * 3;
                dst[d] = ToByte(r);
                dst[d + 1] = ToByte(g);
                dst[d + 2] = ToByte(b);
            }
        }
        return output;
    }

    private readonly record struct Span1(int First, int Start, int End);

    /// <summary>For each output index, the source indices and weights: box (area) filter when shrinking, triangle when enlarging.</summary>
    private static (Span1[] Index, float[] Weight) Weights(int src, int dst)
    {
        double scale = (double)src / dst;
        var index = new Span1[dst];
        var weights = new List<float>(dst * 4);
        for (int o = 0; o < dst; o++)
        {
            int start = weights.Count;
            if (scale > 1)
            {
                double a = o * scale, b = a + scale;
                int first = (int)Math.Floor(a), last = Math.Min(src - 1, (int)Math.Ceiling(b) - 1);
                for (int s = first; s <= last; s++)
                    weights.Add((float)((Math.Min(b, s + 1) - Math.Max(a, s)) / scale));
                index[o] = new Span1(first, start, weights.Count);
            }
            else
            {
                double c = (o + 0.5) * scale - 0.5;
                int s0 = Math.Clamp((int)Math.Floor(c), 0, src - 1), s1 = Math.Min(s0 + 1, src - 1);
                float f = (float)Math.Clamp(c - s0, 0, 1);
                if (s1 == s0) weights.Add(1);
                else
                {
                    weights.Add(1 - f);
                    weights.Add(f);
                }
                index[o] = new Span1(s0, start, weights.Count);
            }
        }
        return (index, weights.ToArray());
    }

    public static byte ToByte(float v) => v <= 0 ? (byte)0 : v >= 255 ? (byte)255 : (byte)(v + 0.5f);

    public static byte ToByte(double v) => v <= 0 ? (byte)0 : v >= 255 ? (byte)255 : (byte)(v + 0.5);

    /// <summary>Luma (ITU-R 601) of pixel <paramref name="p"/> (pixel index, not byte index).</summary>
    public static float Luma(byte[] rgb, int p) => 0.299f * rgb[p * 3] + 0.587f * rgb[p * 3 + 1] + 0.114f * rgb[p * 3 + 2];

    /// <summary>A copy of the image.</summary>
    public static RgbImage Clone(RgbImage image) => new(image.Width, image.Height, (byte[])image.Pixels.Clone());

    /// <summary>HSV (h in [0, 360), s and v in [0, 1]) to RGB in [0, 255].</summary>
    public static (float R, float G, float B) Hsv(double h, double s, double v)
    {
        h = ((h % 360) + 360) % 360;
        double c = v * s, x = c * (1 - Math.Abs(h / 60 % 2 - 1)), m = v - c;
        var (r, g, b) = (int)(h / 60) switch
        {
            0 => (c, x, 0.0),
            1 => (x, c, 0.0),
            2 => (0.0, c, x),
            3 => (0.0, x, c),
            4 => (x, 0.0, c),
            _ => (c, 0.0, x),
        };
        return ((float)((r + m) * 255), (float)((g + m) * 255), (float)((b + m) * 255));
    }
}
