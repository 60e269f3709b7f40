using AgVas.Data;

namespace AgVas.Visualization;

/// <summary>How <see cref="Overlay"/> draws.</summary>
public sealed record OverlayOptions
{
    /// <summary>Opacity of the heat layer, in [0, 1].</summary>
    public float HeatAlpha { get; init; } = 0.5f;
    /// <summary>Map value drawn as the colormap's low end; null uses the map's minimum.</summary>
    public float? HeatMin { get; init; }
    /// <summary>Map value drawn as the colormap's high end; null uses the map's maximum.</summary>
    public float? HeatMax { get; init; }
    /// <summary>Contour width in pixels (inward from the mask's edge and outward by the same amount minus one).</summary>
    public int ContourThickness { get; init; } = 1;
}

/// <summary>
/// Visual check of a prediction: the image, an optional continuous map as a semi-transparent jet heat layer,
/// the ground-truth contour in white and the predicted mask's contour in red (drawn last, on top).
/// </summary>
public static class Overlay
{
    public static readonly (byte R, byte G, byte B) PredictionColour = (255, 0, 0);
    public static readonly (byte R, byte G, byte B) GroundTruthColour = (255, 255, 255);

    /// <summary>Draws the overlay into a new image.</summary>
    /// <param name="image">The input image, [H, W, 3].</param>
    /// <param name="predicted">Predicted mask [H, W], or null.</param>
    /// <param name="groundTruth">Ground-truth mask [H, W], or null.</param>
    /// <param name="heatMap">Continuous anomaly map [H, W] row-major, or null; NaN values are left undrawn.</param>
    public static RgbImage Render(RgbImage image, BinaryMask? predicted, BinaryMask? groundTruth = null, float[]? heatMap = null,
        OverlayOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        options ??= new OverlayOptions();
        if (options.HeatAlpha is < 0f or > 1f || float.IsNaN(options.HeatAlpha))
            throw new ArgumentOutOfRangeException(nameof(options), options.HeatAlpha, "HeatAlpha must be in [0, 1]");
        if (options.ContourThickness < 1) throw new ArgumentOutOfRangeException(nameof(options), options.ContourThickness, "ContourThickness must be at least 1");
        int w = image.Width, h = image.Height;
        CheckSize(predicted, w, h, nameof(predicted));
        CheckSize(groundTruth, w, h, nameof(groundTruth));
        if (heatMap is not null && heatMap.Length != w * h)
            throw new ArgumentException($"heat map has {heatMap.Length} values, the {w}x{h} image needs {w * h}", nameof(heatMap));

        var pixels = (byte[])image.Pixels.Clone();
        if (heatMap is not null) BlendHeat(pixels, heatMap, options);
        if (groundTruth is not null) Paint(pixels, Contour(groundTruth, options.ContourThickness), GroundTruthColour);
        if (predicted is not null) Paint(pixels, Contour(predicted, options.ContourThickness), PredictionColour);
        return new RgbImage(w, h, pixels);
    }

    /// <summary>Draws the overlay and writes it as PNG, atomically.</summary>
    public static void Save(string path, RgbImage image, BinaryMask? predicted, BinaryMask? groundTruth = null, float[]? heatMap = null,
        OverlayOptions? options = null) =>
        ImageIO.SaveRgbPng(Render(image, predicted, groundTruth, heatMap, options), path);

    /// <summary>
    /// The mask's boundary: foreground pixels with a 4-neighbour that is background or outside the image,
    /// widened by <paramref name="thickness"/> - 1 pixels in every direction. [H, W].
    /// </summary>
    public static bool[] Contour(BinaryMask mask, int thickness = 1)
    {
        int w = mask.Width, h = mask.Height;
        var m = mask.Data;
        var edge = new bool[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int i = y * w + x;
                if (!m[i]) continue;
                edge[i] = x == 0 || y == 0 || x == w - 1 || y == h - 1 || !m[i - 1] || !m[i + 1] || !m[i - w] || !m[i + w];
            }
        return thickness <= 1 ? edge : Dilate(edge, w, h, thickness - 1);
    }

    /// <summary>Square dilation by <paramref name="r"/> pixels, separable: rows then columns.</summary>
    private static bool[] Dilate(bool[] src, int w, int h, int r)
    {
        var rows = new bool[src.Length];
        for (int y = 0; y < h; y++)
        {
            int last = int.MinValue; // x of the last set pixel seen, scanning left to right
            for (int x = 0; x < w + r; x++)
            {
                if (x < w && src[y * w + x]) last = x;
                int target = x - r;
                if (target >= 0 && target < w) rows[y * w + target] = (long)x - last <= 2L * r;
            }
        }
        var result = new bool[src.Length];
        for (int x = 0; x < w; x++)
        {
            int last = int.MinValue;
            for (int y = 0; y < h + r; y++)
            {
                if (y < h && rows[y * w + x]) last = y;
                int target = y - r;
                if (target >= 0 && target < h) result[target * w + x] = (long)y - last <= 2L * r;
            }
        }
        return result;
    }

    private static void BlendHeat(byte[] pixels, float[] map, OverlayOptions options)
    {
        float lo = options.HeatMin ?? float.PositiveInfinity, hi = options.HeatMax ?? float.NegativeInfinity;
        if (options.HeatMin is null || options.HeatMax is null)
            foreach (var v in map)
            {
                if (!float.IsFinite(v)) continue;
                if (options.HeatMin is null) lo = Math.Min(lo, v);
                if (options.HeatMax is null) hi = Math.Max(hi, v);
            }
        if (!float.IsFinite(lo) || !float.IsFinite(hi)) return; // no finite value to draw
        float span = hi > lo ? hi - lo : 1f;
        float a = options.HeatAlpha;
        for (int p = 0; p < map.Length; p++)
        {
            if (float.IsNaN(map[p])) continue;
            var (r, g, b) = Colormap.Jet((map[p] - lo) / span);
            int i = 3 * p;
            pixels[i] = Mix(pixels[i], r, a);
            pixels[i + 1] = Mix(pixels[i + 1], g, a);
            pixels[i + 2] = Mix(pixels[i + 2], b, a);
        }
    }

    private static byte Mix(byte under, byte over, float alpha) => (byte)MathF.Round(under + (over - under) * alpha);

    private static void Paint(byte[] pixels, bool[] where, (byte R, byte G, byte B) colour)
    {
        for (int p = 0; p < where.Length; p++)
        {
            if (!where[p]) continue;
            pixels[3 * p] = colour.R;
            pixels[3 * p + 1] = colour.G;
            pixels[3 * p + 2] = colour.B;
        }
    }

    private static void CheckSize(BinaryMask? mask, int w, int h, string name)
    {
        if (mask is not null && (mask.Width != w || mask.Height != h))
            throw new ArgumentException($"{name} mask is {mask.Width}x{mask.Height}, the image is {w}x{h}", name);
    }
}
