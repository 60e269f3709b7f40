using AgVas.Data;
using AgVas.Text;

namespace AgVas.Inference;

/// <summary>
/// The one output contract of AG-VAS inference (AGVAS.md §2), used by the library API, the prediction writers,
/// <c>agvas predict</c>, <c>segment</c>, <c>test</c> and validation during training. All maps are [H, W] row-major at
/// the original image size: <see cref="PSeg"/> = sigmoid of the absolute map, <see cref="PNor"/>/<see cref="PAno"/> the
/// two-channel softmax of the relative maps, <see cref="Map"/> = α·P_seg + (1−α)·P_ano and <see cref="Mask"/> = P &gt; threshold.
/// <see cref="Facts"/> are the mask's verdict, size, location and regions; <see cref="Text"/> is the answer made to agree
/// with them (<see cref="AnswerGrounding"/>) and <see cref="RawText"/> the model's generation as it came.
/// </summary>
public sealed class Prediction
{
    /// <summary>α of the fusion P = α·P_seg + (1−α)·P_ano (AGVAS.md §2).</summary>
    public const float DefaultAlpha = 0.5f;
    /// <summary>The mask threshold on P (AGVAS.md §2).</summary>
    public const float DefaultThreshold = 0.5f;

    public Prediction(int width, int height, float[] pSeg, float[] pNor, float[] pAno, float[] map, BinaryMask mask, string text, bool anchorsForced, InstructionType mode)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"size must be positive, got {width}x{height}");
        int n = checked(width * height);
        foreach (var (name, values) in new[] { ("pSeg", pSeg), ("pNor", pNor), ("pAno", pAno), ("map", map) })
            if (values.Length != n) throw new ArgumentException($"{name} has {values.Length} values for a {width}x{height} image", name);
        if (mask.Width != width || mask.Height != height) throw new ArgumentException($"mask is {mask.Width}x{mask.Height}, image {width}x{height}", nameof(mask));
        Width = width;
        Height = height;
        PSeg = pSeg;
        PNor = pNor;
        PAno = pAno;
        Map = map;
        Mask = mask;
        RawText = text;
        Facts = MaskFacts.Of(mask);
        Text = AnswerGrounding.Ground(text, Facts, mode);
        AnchorsForced = anchorsForced;
        Mode = mode;
    }

    /// <summary>Fuses the per-anchor maps into P and thresholds it into M (<see cref="AnomalyMask"/>; a seed threshold
    /// of null is the threshold itself: the paper's rule).</summary>
    public static Prediction FromAnchorMaps(int width, int height, float[] pSeg, float[] pNor, float[] pAno, string text, bool anchorsForced,
        InstructionType mode, float alpha = DefaultAlpha, float threshold = DefaultThreshold, float? seedThreshold = null)
    {
        if (pSeg.Length != width * height) throw new ArgumentException($"maps have {pSeg.Length} values, expected {width}x{height}", nameof(pSeg));
        var map = new float[pSeg.Length];
        for (int i = 0; i < map.Length; i++) map[i] = alpha * pSeg[i] + (1 - alpha) * pAno[i];
        var mask = AnomalyMask.FromMap(map, width, height, threshold, seedThreshold ?? threshold);
        return new Prediction(width, height, pSeg, pNor, pAno, map, mask, text, anchorsForced, mode);
    }

    public int Width { get; }
    public int Height { get; }
    /// <summary>M: the binary anomaly mask; empty for an image the model judges normal.</summary>
    public BinaryMask Mask { get; }
    /// <summary>P: the fused continuous anomaly map in [0, 1].</summary>
    public float[] Map { get; }
    public float[] PSeg { get; }
    public float[] PNor { get; }
    public float[] PAno { get; }
    /// <summary>What the mask says: verdict, area, size class, grid location, region count and shape (<see cref="MaskFacts"/>).</summary>
    public MaskFacts Facts { get; }
    /// <summary>The answer, agreeing with <see cref="Mask"/> (<see cref="AnswerGrounding"/>): its verdict, location, size,
    /// coverage, region and shape statements are the mask's <see cref="Facts"/>; the defect's name and appearance are the
    /// model's. The anchors "[NOR] [ANO] [SEG]" appear exactly once, where training answers of <see cref="Mode"/> have them:
    /// at the end in the describing modes, in a leading "Sure, it is [NOR] [ANO] [SEG]." in Direct Segmentation and
    /// Segment-then-Explain.</summary>
    public string Text { get; }
    /// <summary>The generated text as it came (anchors as generated, the forced suffix included); it may contradict the mask.</summary>
    public string RawText { get; }
    /// <summary>True when the model emitted no anchors and the " [NOR] [ANO] [SEG]" suffix was forced.</summary>
    public bool AnchorsForced { get; }
    /// <summary>The instruction type the question was asked with.</summary>
    public InstructionType Mode { get; }

    /// <summary>Pixels of the mask.</summary>
    public int AnomalyPixels => Mask.CountPositive();
    /// <summary>Fraction of the image in the mask.</summary>
    public double AnomalyFraction => (double)AnomalyPixels / (Width * Height);
    public bool IsAnomalous => AnomalyPixels > 0;
}

/// <summary>
/// A model that answers one image: decode, ask in <paramref name="mode"/>, segment, post-process to the image's size.
/// Implementations need not be thread-safe; <see cref="Segmenter"/> serialises calls.
/// </summary>
public interface ISegmentationModel
{
    Prediction Predict(RgbImage image, InstructionType mode);
}
