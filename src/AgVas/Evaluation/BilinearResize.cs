namespace AgVas.Evaluation;

/// <summary>
/// Bilinear resampling of a score map exactly as PyTorch's
/// <c>F.interpolate(x, size=(H, W), mode="bilinear", align_corners=False)</c> (no antialiasing): the output pixel
/// centre maps to the source coordinate <c>(dst + 0.5) · in/out − 0.5</c>, clamped at 0, and the two neighbours
/// (the upper one clamped at the border) are blended in float32. Matches PyTorch 1.13's CPU kernel to 1 ulp.
/// </summary>
public static class BilinearResize
{
    /// <summary>Resizes an [srcHeight, srcWidth] map to [dstHeight, dstWidth].</summary>
    public static float[] Resize(ReadOnlySpan<float> source, int srcWidth, int srcHeight, int dstWidth, int dstHeight)
    {
        if (dstWidth <= 0 || dstHeight <= 0) throw new ArgumentOutOfRangeException(nameof(dstWidth), $"sizes must be positive: {dstWidth}x{dstHeight}");
        var result = new float[checked(dstWidth * dstHeight)];
        Resize(source, srcWidth, srcHeight, result, dstWidth, dstHeight);
        return result;
    }

    /// <summary>Resizes an [srcHeight, srcWidth] map into <paramref name="destination"/>, [dstHeight, dstWidth].</summary>
    public static void Resize(ReadOnlySpan<float> source, int srcWidth, int srcHeight, Span<float> destination, int dstWidth, int dstHeight)
    {
        if (srcWidth <= 0 || srcHeight <= 0 || dstWidth <= 0 || dstHeight <= 0)
            throw new ArgumentOutOfRangeException(nameof(srcWidth), $"sizes must be positive: {srcWidth}x{srcHeight} -> {dstWidth}x{dstHeight}");
        if (source.Length != srcWidth * srcHeight)
            throw new ArgumentException($"expected {srcWidth * srcHeight} values for {srcWidth}x{srcHeight}, got {source.Length}", nameof(source));
        if (destination.Length != dstWidth * dstHeight)
            throw new ArgumentException($"expected {dstWidth * dstHeight} values for {dstWidth}x{dstHeight}, got {destination.Length}", nameof(destination));
        var (x0, x1, wx) = Taps(srcWidth, dstWidth);
        var (y0, y1, wy) = Taps(srcHeight, dstHeight);
        for (int y = 0; y < dstHeight; y++)
        {
            var row0 = source.Slice(y0[y] * srcWidth, srcWidth);
            var row1 = source.Slice(y1[y] * srcWidth, srcWidth);
            float b = wy[y], a = 1f - b;
            var dst = destination.Slice(y * dstWidth, dstWidth);
            for (int x = 0; x < dstWidth; x++)
            {
                float r = wx[x], l = 1f - r;
                dst[x] = a * (l * row0[x0[x]] + r * row0[x1[x]]) + b * (l * row1[x0[x]] + r * row1[x1[x]]);
            }
        }
    }

    /// <summary>Per output index: lower and upper source index and the weight of the upper one.</summary>
    private static (int[] Lower, int[] Upper, float[] Weight) Taps(int inSize, int outSize)
    {
        // PyTorch's CPU kernel rounds the scale to float32 but forms the source coordinate and the weight in double.
        double scale = (float)inSize / outSize;
        var lower = new int[outSize];
        var upper = new int[outSize];
        var weight = new float[outSize];
        for (int d = 0; d < outSize; d++)
        {
            double src = Math.Max(scale * (d + 0.5) - 0.5, 0);
            int i0 = Math.Min((int)src, inSize - 1);
            lower[d] = i0;
            upper[d] = i0 < inSize - 1 ? i0 + 1 : i0;
            weight[d] = (float)Math.Clamp(src - i0, 0, 1);
        }
        return (lower, upper, weight);
    }
}
