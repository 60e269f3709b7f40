using AgVas.Data;
using AgVas.Modeling;
using AgVas.Text;
using AgVas.Visualization;
using TorchSharp;

namespace AgVas.Inference;

/// <summary>
/// The one output contract of AG-VAS inference (docs/design.md §5–6), used by the library API, the prediction writers,
/// <c>agvas predict</c>, <c>segment</c>, <c>test</c> and validation during training. All maps are [H, W] row-major at
/// the original image size: <see cref="PSeg"/> = sigmoid of the absolute map, <see cref="PNor"/>/<see cref="PAno"/> the
/// two-channel softmax of the relative maps, <see cref="Map"/> = α·P_seg + (1−α)·P_ano and <see cref="Mask"/> = P &gt; threshold.
/// <see cref="Facts"/> are the mask's verdict, size, location and regions; <see cref="Text"/> is the answer made to agree
/// with them (<see cref="AnswerGrounding"/>) and <see cref="RawText"/> the model's generation as it came.
/// <see cref="SaveMask"/>, <see cref="SaveMap"/> and <see cref="SaveOverlay"/> write it, each file atomically.
/// </summary>
public sealed class Prediction
{
    /// <summary>A prediction from its maps and mask (all [H, W] row-major at the image size) and the generated text, which
    /// is grounded in the mask's facts here.</summary>
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
        Score = map.Max();
        Mask = mask;
        RawText = text;
        Facts = MaskFacts.Of(mask);
        Text = AnswerGrounding.Ground(text, Facts, mode);
        AnchorsForced = anchorsForced;
        Mode = mode;
    }

    /// <summary>Fuses the per-anchor maps [H, W] into P (<see cref="AgmdOutput.Fuse"/>) and thresholds it into M
    /// (<see cref="AnomalyMask"/>) with α, the threshold and the seed threshold of <paramref name="agmd"/> (default: the paper's).</summary>
    public static Prediction FromAnchorMaps(int width, int height, float[] pSeg, float[] pNor, float[] pAno, string text, bool anchorsForced,
        InstructionType mode, AgmdConfig? agmd = null)
    {
        if (pSeg.Length != width * height) throw new ArgumentException($"maps have {pSeg.Length} values, expected {width}x{height}", nameof(pSeg));
        agmd ??= new AgmdConfig();
        using var scope = torch.NewDisposeScope();
        var map = AgmdOutput.Fuse(torch.tensor(pSeg), torch.tensor(pAno), agmd.Alpha).data<float>().ToArray();     // [H·W]
        var mask = AnomalyMask.FromMap(map, width, height, agmd.Threshold, agmd.SeedThreshold);
        return new Prediction(width, height, pSeg, pNor, pAno, map, mask, text, anchorsForced, mode);
    }

    /// <summary>Image width W in pixels.</summary>
    public int Width { get; }
    /// <summary>Image height H in pixels.</summary>
    public int Height { get; }
    /// <summary>M: the binary anomaly mask; empty for an image the model judges normal.</summary>
    public BinaryMask Mask { get; }
    /// <summary>P: the fused continuous anomaly map in [0, 1].</summary>
    public float[] Map { get; }
    /// <summary>The image's anomaly score: the maximum of <see cref="Map"/>.</summary>
    public float Score { get; }
    /// <summary>P_seg = sigmoid of the absolute (SEG) map, [H, W].</summary>
    public float[] PSeg { get; }
    /// <summary>P_nor, the normal channel of the relative (NOR, ANO) softmax, [H, W].</summary>
    public float[] PNor { get; }
    /// <summary>P_ano, the anomalous channel of the relative (NOR, ANO) softmax, [H, W].</summary>
    public float[] PAno { get; }
    /// <summary>What the mask says: verdict, area, size class, grid location, region count and shape (<see cref="MaskFacts"/>).</summary>
    public MaskFacts Facts { get; }
    /// <summary>The answer, agreeing with <see cref="Mask"/> (<see cref="AnswerGrounding"/>): its verdict, location, size,
    /// coverage, region and shape statements are the mask's <see cref="Facts"/>; the defect's name and appearance are the
    /// model's. The <see cref="Anchors"/> appear exactly once, where training answers of <see cref="Mode"/> have them:
    /// at the end in the describing modes, in a leading <see cref="Conversations.DirectAnswer"/> in Direct Segmentation and
    /// Segment-then-Explain.</summary>
    public string Text { get; }
    /// <summary>The generated text as it came (anchors as generated, the forced suffix included); it may contradict the mask.</summary>
    public string RawText { get; }
    /// <summary>True when the model emitted no anchors and <see cref="Anchors.Suffix"/> was forced.</summary>
    public bool AnchorsForced { get; }
    /// <summary>The instruction type the question was asked with.</summary>
    public InstructionType Mode { get; }

    /// <summary>Pixels of the mask.</summary>
    public int AnomalyPixels => Mask.CountPositive();
    /// <summary>Fraction of the image in the mask.</summary>
    public double AnomalyFraction => (double)AnomalyPixels / (Width * Height);
    /// <summary>Normal when the mask is empty, else anomalous.</summary>
    public Verdict Verdict => Facts.Verdict;
    /// <summary>True when the mask is not empty.</summary>
    public bool IsAnomalous => AnomalyPixels > 0;

    /// <summary>Writes <see cref="Mask"/> as an 8-bit grey PNG (255 = anomaly), atomically.</summary>
    public void SaveMask(string path) => ImageIO.SaveMaskPng(Mask, path);

    /// <summary>Writes <see cref="Map"/> as a NumPy <c>.npy</c> file (float32 [H, W]), atomically.</summary>
    public void SaveMap(string path) => Npy.Write(path, NpyArray.FromSingle(Map, Height, Width));

    /// <summary>The overlay: <paramref name="image"/> (the image this prediction is of) with <see cref="Map"/> as a heat
    /// layer and the mask's contour in red.</summary>
    public RgbImage RenderOverlay(RgbImage image) => Overlay.Render(image, Mask, heatMap: Map);

    /// <summary>Writes <see cref="RenderOverlay"/> as PNG, atomically.</summary>
    public void SaveOverlay(string path, RgbImage image) => Overlay.Save(path, image, Mask, heatMap: Map);
}

/// <summary>
/// A model that answers one image: decode, ask in an instruction type, segment, post-process to the image's size.
/// Implementations need not be thread-safe; <see cref="AnomalySegmenter"/> serialises calls.
/// </summary>
public interface ISegmentationModel
{
    /// <summary>Answers <paramref name="image"/> asked in <paramref name="mode"/>, at the image's size.</summary>
    /// <param name="image">The image, [H, W, 3].</param>
    /// <param name="mode">The instruction type of the question.</param>
    Prediction Predict(RgbImage image, InstructionType mode);
}
