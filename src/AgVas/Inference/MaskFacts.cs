using AgVas.Data;
using AgVas.Synthesis;

namespace AgVas.Inference;

/// <summary>The image-level judgement a mask stands for: an empty mask is a normal image.</summary>
public enum Verdict
{
    /// <summary>The mask is empty.</summary>
    Normal,
    /// <summary>The mask has at least one pixel.</summary>
    Anomalous,
}

/// <summary>
/// What a predicted mask says, computed by the code that writes the training answers
/// (<see cref="MaskAttributes.Geometry"/>, thresholds in <see cref="MaskAttributes"/>): the verdict, the area, the size
/// class, the 3×3 grid location of the centroid, the region count and the shape. A <see cref="Prediction"/>'s answer
/// text states these and nothing against them (<see cref="AnswerGrounding"/>); callers read them here instead of parsing
/// the text.
/// </summary>
/// <param name="Verdict">Normal when the mask is empty.</param>
/// <param name="AnomalyPixels">Mask pixels.</param>
/// <param name="AreaFraction">Mask pixels / image pixels.</param>
/// <param name="RegionCount">8-connected regions (0 for a normal image).</param>
/// <param name="Geometry">Area, size class, location and shape of the mask; null for a normal image.</param>
public sealed record MaskFacts(Verdict Verdict, int AnomalyPixels, double AreaFraction, int RegionCount, MaskGeometry? Geometry)
{
    /// <summary>The facts of <paramref name="mask"/>.</summary>
    public static MaskFacts Of(BinaryMask mask)
    {
        if (mask.CountPositive() == 0) return new MaskFacts(Verdict.Normal, 0, 0, 0, null);
        var g = MaskAttributes.Geometry(mask);
        return new MaskFacts(Verdict.Anomalous, g.Pixels, g.AreaFraction, g.RegionCount, g);
    }

    /// <summary>True when the mask is not empty.</summary>
    public bool IsAnomalous => Verdict == Verdict.Anomalous;

    /// <summary>Tiny / small / medium / large (<see cref="MaskAttributes.ClassifySize"/>); null for a normal image.</summary>
    public SizeClass? Size => Geometry?.Size;

    /// <summary>The 3×3 image grid cell of the centroid, as the answers name it ("bottom right", "centre"); null for a
    /// normal image.</summary>
    public string? Location => Geometry?.ImageLocation;

    /// <summary>Round, line-like, irregular or scattered; null for a normal image.</summary>
    public ShapeClass? Shape => Geometry?.Shape;

    /// <summary>"round", "line-like", "irregular", "scattered".</summary>
    public static string ShapeName(ShapeClass shape) => shape == ShapeClass.LineLike ? "line-like" : shape.ToString().ToLowerInvariant();
}
