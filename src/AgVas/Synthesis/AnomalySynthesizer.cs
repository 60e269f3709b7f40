using AgVas.Data;

namespace AgVas.Synthesis;

/// <summary>Options of Anomaly-Seg synthesis (docs/design.md §8). Defaults: 256 px, 20 % normal images, every kind and size.</summary>
/// <param name="Size">Side of the square output images.</param>
/// <param name="NormalRatio">Fraction of samples left unchanged (empty mask), in [0, 1].</param>
/// <param name="Kinds">Anomaly kinds to draw from (uniformly); null = all.</param>
/// <param name="Sizes">Intended defect sizes to draw from (uniformly); null = all.</param>
/// <param name="ForegroundOnly">Keep defects on the estimated object foreground (see <see cref="Foreground"/>).</param>
/// <param name="Seed">Master seed; sample i uses its own stream derived from (Seed, i).</param>
/// <param name="SourceWeights">Relative weight of each normal-image source (one per source); null = equal.</param>
/// <param name="ArtifactRatio">Fraction of samples (normal or not) whose image first gets 1–3
/// <see cref="AcquisitionArtifacts"/> (outside the mask), in [0, 1]; 0 = none, as in the paper.</param>
public sealed record SynthesisOptions(
    int Size = 256,
    double NormalRatio = 0.2,
    IReadOnlyList<AnomalyKind>? Kinds = null,
    IReadOnlyList<DefectSize>? Sizes = null,
    bool ForegroundOnly = false,
    ulong Seed = 0,
    IReadOnlyList<double>? SourceWeights = null,
    double ArtifactRatio = 0);

/// <summary>One Anomaly-Seg sample: the image, its exact mask (empty when normal) and its names.</summary>
public sealed record SynthSample(long Index, RgbImage Image, BinaryMask Mask, string Category, string Defect, string Source,
    AnomalyKind? Kind, DefectSize? Size)
{
    public bool IsAnomalous => Kind is not null;
}

/// <summary>Makes Anomaly-Seg samples by painting synthetic defects on normal images. Sample i is a pure function of
/// (sources, options, i): each sample draws from its own random stream, so any thread count gives identical output.
/// The mask is exactly the painted shape; pixels outside it change only within <see cref="DefectCanvas.BlendMargin"/>
/// (the soft edge), and at most <see cref="MaxFaintFraction"/> of mask pixels change by less than
/// <see cref="MinVisibleChange"/> grey levels (attempts that are too faint are redrawn; see <see cref="PaintDefect"/>).</summary>
public sealed class AnomalySynthesizer
{
    /// <summary>A mask pixel counts as visibly changed when some channel moved by at least this much.</summary>
    public const int MinVisibleChange = 4;
    /// <summary>Largest fraction of mask pixels allowed to be changed by less than <see cref="MinVisibleChange"/>.</summary>
    public const double MaxFaintFraction = 0.05;
    /// <summary>Redraws of a defect that came out empty or too faint before the faint pixels are pushed by hand.</summary>
    public const int MaxAttempts = 8;

    [ThreadStatic] private static DefectCanvas? t_canvas;

    private readonly IReadOnlyList<INormalSource> _sources;
    private readonly double[] _sourceWeights;
    private readonly IReadOnlyList<AnomalyKind> _kinds;
    private readonly IReadOnlyList<DefectSize> _sizes;

    public SynthesisOptions Options { get; }

    public AnomalySynthesizer(IReadOnlyList<INormalSource> sources, SynthesisOptions options)
    {
        if (sources.Count == 0) throw new ArgumentException("at least one source of normal images is needed", nameof(sources));
        if (options.Size is < 16 or > 4096) throw new ArgumentOutOfRangeException(nameof(options), $"Size must be in [16, 4096], got {options.Size}");
        if (!(options.NormalRatio is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(options), $"NormalRatio must be in [0, 1], got {options.NormalRatio}");
        if (!(options.ArtifactRatio is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(options), $"ArtifactRatio must be in [0, 1], got {options.ArtifactRatio}");
        if (options.SourceWeights is { } w
            && (w.Count != sources.Count || w.Any(x => !(x >= 0) || double.IsInfinity(x)) || w.Sum() <= 0))
            throw new ArgumentException($"SourceWeights needs one non-negative weight per source ({sources.Count}), not all zero; got [{string.Join(", ", w)}]", nameof(options));
        _sourceWeights = options.SourceWeights?.ToArray() ?? Enumerable.Repeat(1.0, sources.Count).ToArray();
        _kinds = options.Kinds is { Count: > 0 } k ? k : AnomalyKinds.Default;
        _sizes = options.Sizes is { Count: > 0 } s ? s : Enum.GetValues<DefectSize>();
        _sources = sources;
        Options = options;
    }

    /// <summary>Sample <paramref name="index"/>.</summary>
    public SynthSample Generate(long index)
    {
        var rng = new SynthRandom(SynthRandom.Derive(Options.Seed, index));
        var source = _sources[rng.Pick(_sourceWeights)];
        int item = rng.Next(source.Count);
        var normal = source.Load(item, Options.Size, SynthRandom.Derive(Options.Seed, index, 1));
        var image = normal.Image;
        if (image.Width != Options.Size || image.Height != Options.Size) image = ImageOps.SquareResize(image, Options.Size);
        if (Options.ArtifactRatio > 0)
        {
            // Their own stream (salt 3), so that a set made without artifacts is unchanged by the option's existence.
            var artifactRng = new SynthRandom(SynthRandom.Derive(Options.Seed, index, 3));
            if (artifactRng.Chance(Options.ArtifactRatio))
            {
                if (ReferenceEquals(image, normal.Image)) image = ImageOps.Clone(image);
                AcquisitionArtifacts.Apply(image, artifactRng.NextUInt64());
            }
        }
        if (rng.Chance(Options.NormalRatio))
            return new SynthSample(index, ImageOps.Clone(image), new BinaryMask(image.Width, image.Height), normal.Category, "good", normal.Source, null, null);
        var kind = _kinds[rng.Next(_kinds.Count)];
        var size = _sizes[rng.Next(_sizes.Count)];
        RgbImage? other = null;
        if (kind == AnomalyKind.CutPaste && source.Count > 1 && rng.Chance(0.5))
        {
            int j = (item + 1 + rng.Next(source.Count - 1)) % source.Count;
            other = source.Load(j, Options.Size, SynthRandom.Derive(Options.Seed, index, 2)).Image;
        }
        var (output, mask) = PaintDefect(image, other, kind, size, Options.ForegroundOnly, rng.NextUInt64());
        return new SynthSample(index, output, mask, normal.Category, AnomalyKinds.Name(kind), normal.Source, kind, size);
    }

    /// <summary>Paints one defect of <paramref name="kind"/> on a copy of <paramref name="normal"/>. Draws are repeated
    /// (up to <see cref="MaxAttempts"/>) while the shape is empty or more than <see cref="MaxFaintFraction"/> of it is
    /// faint; if the last draw is still too faint, its faint pixels are pushed 40 levels away from the original so
    /// that the mask never claims an invisible defect.</summary>
    public static (RgbImage Image, BinaryMask Mask) PaintDefect(RgbImage normal, RgbImage? other, AnomalyKind kind,
        DefectSize size, bool foregroundOnly, ulong seed)
    {
        var rng = new SynthRandom(seed);
        var canvas = t_canvas is { } c && c.Width == normal.Width && c.Height == normal.Height
            ? c : t_canvas = new DefectCanvas(normal.Width, normal.Height);
        // The foreground estimate is only needed to restrict placement or to bite a piece out of an outline.
        var fg = foregroundOnly || kind == AnomalyKind.MissingPiece
            ? Foreground.Estimate(normal)
            : new Foreground.Result(AllTrue(canvas), false, (0, 0, 0));
        var input = new PaintInput(normal, other, fg, foregroundOnly && fg.IsObject ? fg.Mask : null, size);
        var output = ImageOps.Clone(normal);
        for (int attempt = 1; ; attempt++)
        {
            bool painted = DefectPainters.Paint(kind, input, canvas, ref rng);
            if (!painted && attempt < MaxAttempts) continue;
            if (!painted)
            {
                // Last resort for a region that rejects the kind (e.g. a tiny allowed area): a hole at an allowed point.
                if (!DefectPainters.Paint(AnomalyKind.Hole, input with { Allowed = null }, canvas, ref rng))
                    throw new InvalidOperationException($"could not place a {AnomalyKinds.Name(kind)} defect on a {normal.Width}x{normal.Height} image");
            }
            canvas.Composite(normal, output);
            int faint = CountFaint(normal, output, canvas.Shape, canvas.Box, out int total);
            if (faint <= MaxFaintFraction * total) break;
            if (attempt >= MaxAttempts)
            {
                PushFaint(normal, output, canvas.Shape, canvas.Box);
                break;
            }
            Array.Copy(normal.Pixels, output.Pixels, normal.Pixels.Length);
        }
        return (output, canvas.ToMask());
    }

    private static bool[] AllTrue(DefectCanvas canvas)
    {
        var all = new bool[canvas.Width * canvas.Height];
        Array.Fill(all, true);
        return all;
    }

    private static int CountFaint(RgbImage a, RgbImage b, bool[] shape, (int X0, int Y0, int X1, int Y1) box, out int total)
    {
        int faint = 0;
        total = 0;
        for (int y = box.Y0; y < box.Y1; y++)
            for (int x = box.X0; x < box.X1; x++)
            {
                int p = y * a.Width + x;
                if (!shape[p]) continue;
                total++;
                if (MaxChannelDiff(a.Pixels, b.Pixels, p) < MinVisibleChange) faint++;
            }
        return faint;
    }

    private static void PushFaint(RgbImage a, RgbImage b, bool[] shape, (int X0, int Y0, int X1, int Y1) box)
    {
        for (int y = box.Y0; y < box.Y1; y++)
            for (int x = box.X0; x < box.X1; x++)
            {
                int p = y * a.Width + x;
                if (!shape[p] || MaxChannelDiff(a.Pixels, b.Pixels, p) >= MinVisibleChange) continue;
                float shift = ImageOps.Luma(a.Pixels, p) < 128 ? 40 : -40;
                for (int ch = 0; ch < 3; ch++) b.Pixels[p * 3 + ch] = ImageOps.ToByte(a.Pixels[p * 3 + ch] + shift);
            }
    }

    internal static int MaxChannelDiff(byte[] a, byte[] b, int p)
    {
        int i = p * 3;
        return Math.Max(Math.Abs(a[i] - b[i]), Math.Max(Math.Abs(a[i + 1] - b[i + 1]), Math.Abs(a[i + 2] - b[i + 2])));
    }
}
