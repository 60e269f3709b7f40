using AgVas.Data;
using AgVas.Evaluation;

namespace AgVas.Inference;

/// <summary>
/// The mask rule M from the fused map P ([H, W], row-major). The paper's rule is M = P &gt; threshold. With a seed
/// threshold above it, the rule becomes hysteresis thresholding (as <c>skimage.filters.apply_hysteresis_threshold</c>):
/// an 8-connected region of P &gt; threshold is kept only when some pixel in it has P &gt; seed. Weak, isolated
/// responses on a defect-free image then leave the mask empty, while a confident region keeps its full extent.
/// seed = threshold is exactly the paper's rule.
/// </summary>
public static class AnomalyMask
{
    /// <summary>M from P ([H, W] row-major): the regions of P &gt; <paramref name="threshold"/> that hold a pixel with
    /// P &gt; <paramref name="seedThreshold"/> (equal thresholds: the paper's M = P &gt; threshold).</summary>
    public static BinaryMask FromMap(ReadOnlySpan<float> map, int width, int height, double threshold, double seedThreshold)
    {
        if (map.Length != width * height) throw new ArgumentException($"map has {map.Length} values, expected {width}x{height}", nameof(map));
        if (!(seedThreshold >= threshold)) throw new ArgumentOutOfRangeException(nameof(seedThreshold), $"seed threshold {seedThreshold} is below the threshold {threshold}");
        var mask = new bool[map.Length];
        bool anySeed = false;
        for (int i = 0; i < map.Length; i++)
        {
            mask[i] = map[i] > threshold;
            anySeed |= map[i] > seedThreshold;
        }
        if (seedThreshold == threshold || !anySeed)
            return new BinaryMask(width, height, anySeed ? mask : new bool[map.Length]);

        var labels = new int[map.Length];
        int count = ConnectedComponents.Label8(mask, width, height, labels);
        var seeded = new bool[count + 1];
        for (int i = 0; i < map.Length; i++)
            if (map[i] > seedThreshold) seeded[labels[i]] = true;
        for (int i = 0; i < map.Length; i++) mask[i] = seeded[labels[i]] && labels[i] != 0;
        return new BinaryMask(width, height, mask);
    }
}
