namespace AgVas.Visualization;

/// <summary>Colormaps for continuous anomaly maps.</summary>
public static class Colormap
{
    /// <summary>
    /// Jet (MATLAB's): dark blue at 0, through cyan, yellow, to dark red at 1; <paramref name="t"/> is clamped to [0, 1].
    /// Each channel is the tent <c>clamp(1.5 - |4t - c|)</c> with centres c = 3 (red), 2 (green), 1 (blue).
    /// </summary>
    public static (byte R, byte G, byte B) Jet(float t)
    {
        t = float.IsNaN(t) ? 0f : Math.Clamp(t, 0f, 1f);
        return (Channel(1.5f - Math.Abs(4f * t - 3f)), Channel(1.5f - Math.Abs(4f * t - 2f)), Channel(1.5f - Math.Abs(4f * t - 1f)));
    }

    private static byte Channel(float v) => (byte)MathF.Round(Math.Clamp(v, 0f, 1f) * 255f);
}
