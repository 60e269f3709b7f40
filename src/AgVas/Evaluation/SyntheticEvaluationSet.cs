using System.Globalization;
using System.Text;
using AgVas.Data;

namespace AgVas.Evaluation;

/// <summary>Settings of a generated evaluation set (see <see cref="SyntheticEvaluationSet"/>).</summary>
public sealed record SyntheticEvaluationSetOptions
{
    public int Categories { get; init; } = 2;
    public int ImagesPerCategory { get; init; } = 6;
    public int Width { get; init; } = 64;
    public int Height { get; init; } = 64;
    /// <summary>Fraction of each category's images that are normal (at least one of each kind when there are two images or more).</summary>
    public double NormalFraction { get; init; } = 0.3;
    /// <summary>Ground-truth regions per anomalous image: 1 to this many.</summary>
    public int MaxRegions { get; init; } = 3;
    /// <summary>Maps of every odd-numbered category are stored this many times smaller (exercises the bilinear resize); 1 = never.</summary>
    public int OddCategoryMapDownscale { get; init; } = 1;
    /// <summary>Also write the predictor's binary masks (<c>_mask.png</c>, map &gt; 0.5).</summary>
    public bool WritePredictedMasks { get; init; } = true;
    /// <summary>Store maps as float64 instead of float32.</summary>
    public bool Float64Maps { get; init; }
    public int Seed { get; init; } = 1;
}

/// <summary>
/// Writes a small synthetic test set and predictions for it, for tests, benchmarks and the shipped example:
/// <c>&lt;data&gt;/&lt;category&gt;/test/{good,defect}/NNN.png</c> (RGB), <c>&lt;category&gt;/ground_truth/defect/NNN_mask.png</c>
/// (several regions: rectangles, discs, strokes), <c>&lt;data&gt;/manifest.csv</c> (the columns of
/// <c>real/test.csv</c>), and in <c>&lt;pred&gt;</c> the imperfect maps (<c>.npy</c>: the blurred ground truth shifted by a
/// pixel, plus noise and the odd false alarm) and optionally masks. Deterministic for a seed.
/// </summary>
public static class SyntheticEvaluationSet
{
    public const string ManifestFile = "manifest.csv";

    /// <summary>Writes the set and returns its samples (the rows of the manifest).</summary>
    public static IReadOnlyList<Sample> Write(string dataRoot, string predictionRoot, SyntheticEvaluationSetOptions? options = null,
        ParallelOptions? parallel = null)
    {
        var o = options ?? new SyntheticEvaluationSetOptions();
        if (o.Categories < 1 || o.ImagesPerCategory < 1 || o.Width < 4 || o.Height < 4 || o.MaxRegions < 1 || o.OddCategoryMapDownscale < 1)
            throw new ArgumentException($"invalid synthetic set options: {o}", nameof(options));
        dataRoot = Path.GetFullPath(dataRoot);
        var jobs = new List<(Sample Sample, int Category, int Index)>();
        for (int c = 0; c < o.Categories; c++)
        {
            string category = $"category_{c:D2}";
            int normals = o.ImagesPerCategory < 2 ? 0 : Math.Clamp((int)Math.Round(o.ImagesPerCategory * o.NormalFraction), 1, o.ImagesPerCategory - 1);
            for (int i = 0; i < o.ImagesPerCategory; i++)
            {
                bool anomalous = i >= normals;
                string relative = $"{category}/test/{(anomalous ? "defect" : "good")}/{i:D3}.png";
                string? mask = anomalous ? $"{category}/ground_truth/defect/{i:D3}_mask.png" : null;
                jobs.Add((new Sample(Path.Combine(dataRoot, relative), relative, category, anomalous,
                    mask is null ? [] : [Path.Combine(dataRoot, mask)], MaskRule.GreaterThanZero, anomalous ? "defect" : "good", "synthetic"), c, i));
            }
        }
        var predictions = Path.GetFullPath(predictionRoot);
        Parallel.For(0, jobs.Count, parallel ?? new ParallelOptions(), j => WriteImage(jobs[j].Sample, jobs[j].Category, jobs[j].Index, predictions, o));

        var csv = new StringBuilder("source,category,defect,label,image,mask,mask_rule\n");
        foreach (var (s, _, _) in jobs)
        {
            string mask = s.MaskPaths.Count > 0 ? Path.GetRelativePath(dataRoot, s.MaskPaths[0]).Replace('\\', '/') : "";
            csv.Append(CultureInfo.InvariantCulture, $"synthetic,{s.Category},{s.Defect},{(s.IsAnomalous ? "anomalous" : "normal")},{s.RelativePath},{mask},gt0\n");
        }
        AtomicFile.WriteAllText(Path.Combine(dataRoot, ManifestFile), csv.ToString());
        return jobs.Select(j => j.Sample).ToList();
    }

    private static void WriteImage(Sample sample, int category, int index, string predictionRoot, SyntheticEvaluationSetOptions o)
    {
        var rng = new Random(unchecked(o.Seed * 1_000_003 + category * 10_007 + index)); // not HashCode: it is randomised per process
        int w = o.Width, h = o.Height;
        var truth = new bool[w * h];
        if (sample.IsAnomalous)
        {
            int regions = rng.Next(1, o.MaxRegions + 1);
            for (int r = 0; r < regions; r++) PaintRegion(truth, w, h, rng);
            ImageIO.SaveMaskPng(new BinaryMask(w, h, truth), sample.MaskPaths[0]);
        }
        ImageIO.SaveRgbPng(RenderImage(truth, w, h, category, rng), sample.ImagePath);

        var map = RenderMap(truth, w, h, sample.IsAnomalous, rng);
        var stem = Path.Combine(predictionRoot, Path.ChangeExtension(sample.RelativePath, null));
        if (o.WritePredictedMasks)
            ImageIO.SaveMaskPng(new BinaryMask(w, h, map.Select(v => v > 0.5f).ToArray()), stem + PredictionDirectory.MaskSuffix);
        int f = category % 2 == 1 ? o.OddCategoryMapDownscale : 1;
        int mw = Math.Max(1, w / f), mh = Math.Max(1, h / f);
        if (f > 1) map = BoxDownscale(map, w, h, mw, mh);
        var array = o.Float64Maps ? NpyArray.FromDouble(map.Select(v => (double)v).ToArray(), mh, mw) : NpyArray.FromSingle(map, mh, mw);
        Npy.Write(stem + PredictionDirectory.MapExtension, array);
    }

    /// <summary>A rectangle, a disc or a stroke (a thin diagonal line: 8-connected only).</summary>
    private static void PaintRegion(bool[] truth, int w, int h, Random rng)
    {
        int cx = rng.Next(w), cy = rng.Next(h), size = Math.Max(2, Math.Min(w, h) / rng.Next(5, 12));
        switch (rng.Next(3))
        {
            case 0:
                for (int y = cy; y < Math.Min(h, cy + size); y++)
                    for (int x = cx; x < Math.Min(w, cx + size * 2); x++) truth[y * w + x] = true;
                break;
            case 1:
                for (int y = Math.Max(0, cy - size); y < Math.Min(h, cy + size); y++)
                    for (int x = Math.Max(0, cx - size); x < Math.Min(w, cx + size); x++)
                        if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= size * size) truth[y * w + x] = true;
                break;
            default:
                int dx = rng.Next(2) * 2 - 1;
                for (int k = 0; k < size * 3; k++)
                {
                    int x = cx + k * dx, y = cy + k;
                    if (x < 0 || x >= w || y >= h) break;
                    truth[y * w + x] = true;
                }
                break;
        }
    }

    private static RgbImage RenderImage(bool[] truth, int w, int h, int category, Random rng)
    {
        var pixels = new byte[w * h * 3];
        byte r0 = (byte)(60 + 40 * (category % 4)), g0 = (byte)(90 + 30 * (category % 3)), b0 = (byte)(120 + 25 * (category % 5));
        int tint = rng.Next(-20, 20);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int i = y * w + x, shade = (x + y) * 40 / (w + h) + tint;
                bool defect = truth[i];
                pixels[3 * i] = (byte)Math.Clamp(r0 + shade + (defect ? 90 : 0), 0, 255);
                pixels[3 * i + 1] = (byte)Math.Clamp(g0 + shade - (defect ? 50 : 0), 0, 255);
                pixels[3 * i + 2] = (byte)Math.Clamp(b0 + shade - (defect ? 50 : 0), 0, 255);
            }
        return new RgbImage(w, h, pixels);
    }

    /// <summary>An imperfect anomaly map in [0, 1]: blurred, shifted ground truth, noise, and sometimes a false alarm.</summary>
    private static float[] RenderMap(bool[] truth, int w, int h, bool anomalous, Random rng)
    {
        var map = new float[w * h];
        int shift = rng.Next(0, 3);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                map[y * w + x] = truth[y * w + Math.Max(0, x - shift)] ? 0.85f : 0f;
        if (rng.NextDouble() < (anomalous ? 0.3 : 0.5))
        {
            int cx = rng.Next(w), cy = rng.Next(h), s = Math.Max(2, Math.Min(w, h) / 10);
            for (int y = cy; y < Math.Min(h, cy + s); y++)
                for (int x = cx; x < Math.Min(w, cx + s); x++) map[y * w + x] = 0.7f;
        }
        map = BoxBlur(map, w, h, 2);
        for (int i = 0; i < map.Length; i++) map[i] = Math.Clamp(map[i] + (float)(rng.NextDouble() * 0.3 - 0.1), 0f, 1f);
        return map;
    }

    private static float[] BoxBlur(float[] map, int w, int h, int radius)
    {
        var tmp = new float[map.Length];
        var result = new float[map.Length];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                float sum = 0;
                int n = 0;
                for (int k = Math.Max(0, x - radius); k <= Math.Min(w - 1, x + radius); k++, n++) sum += map[y * w + k];
                tmp[y * w + x] = sum / n;
            }
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                float sum = 0;
                int n = 0;
                for (int k = Math.Max(0, y - radius); k <= Math.Min(h - 1, y + radius); k++, n++) sum += tmp[k * w + x];
                result[y * w + x] = sum / n;
            }
        return result;
    }

    private static float[] BoxDownscale(float[] map, int w, int h, int mw, int mh)
    {
        var result = new float[mw * mh];
        for (int y = 0; y < mh; y++)
            for (int x = 0; x < mw; x++)
            {
                int y0 = y * h / mh, y1 = (y + 1) * h / mh, x0 = x * w / mw, x1 = (x + 1) * w / mw;
                float sum = 0;
                for (int yy = y0; yy < y1; yy++)
                    for (int xx = x0; xx < x1; xx++) sum += map[yy * w + xx];
                result[y * mw + x] = sum / ((y1 - y0) * (x1 - x0));
            }
        return result;
    }
}
