using System.Collections.Concurrent;
using AgVas.Data;

namespace AgVas.Synthesis;

/// <summary>A defect-free image at the synthesis size, with the category and source it came from.</summary>
public sealed record NormalImage(RgbImage Image, string Category, string Source);

/// <summary>Where synthesis takes its normal images from. <see cref="Load"/> must be a pure function of its
/// arguments (thread-safe, same output for the same index and seed) so that output does not depend on threading.</summary>
public interface INormalSource
{
    /// <summary>A short name for messages ("procedural", a folder or manifest path).</summary>
    string Name { get; }
    int Count { get; }
    NormalImage Load(int index, int size, ulong seed);
}

/// <summary>Procedural textures: item i is texture kind i; the seed picks the pattern and colours.</summary>
public sealed class ProceduralSource : INormalSource
{
    public string Name => "procedural";
    public int Count => ProceduralTextures.AllKinds.Count;

    public NormalImage Load(int index, int size, ulong seed)
    {
        var kind = ProceduralTextures.AllKinds[index];
        var rng = new SynthRandom(seed);
        return new NormalImage(ProceduralTextures.Generate(kind, size, ref rng), ProceduralTextures.CategoryName(kind), "procedural");
    }
}

/// <summary>Normal images from files (a folder, or the normal samples of a dataset), centre-cropped and resized.
/// Up to <see cref="MaxCached"/> resized images are kept in memory; beyond that they are decoded again on use,
/// which keeps memory flat for large datasets.</summary>
public sealed class ImageFileSource : INormalSource
{
    public const int MaxCached = 256;
    private readonly IReadOnlyList<(string Path, string Category)> _items;
    private readonly ConcurrentDictionary<(int, int), RgbImage> _cache = new();

    public ImageFileSource(string name, IReadOnlyList<(string Path, string Category)> items)
    {
        if (items.Count == 0) throw new DataException(name, "no normal images found");
        Name = name;
        _items = items;
    }

    /// <summary>The normal (non-anomalous) samples of a dataset.</summary>
    public static ImageFileSource FromSamples(string name, IEnumerable<Sample> samples) =>
        new(name, samples.Where(s => !s.IsAnomalous).Select(s => (s.ImagePath, s.Category)).ToList());

    public string Name { get; }
    public int Count => _items.Count;

    public NormalImage Load(int index, int size, ulong seed)
    {
        var (path, category) = _items[index];
        if (!_cache.TryGetValue((index, size), out var image))
        {
            image = ImageOps.SquareResize(ImageIO.LoadRgb(path), size);
            if (_cache.Count < MaxCached) _cache.TryAdd((index, size), image);
        }
        return new NormalImage(image, category, "file");
    }
}

/// <summary>
/// Procedural scenes: an object (a rounded, wobbly blob of one procedural texture, tinted, shaded towards its rim,
/// sometimes casting a soft shadow) lying on a background of another texture. They are normal images: they teach the
/// model that an object standing out from its background is not itself a defect — without them, a model trained on
/// uniform textures marks whole cookies and hazelnuts as anomalous. Item i's object texture is kind i.
/// </summary>
public sealed class SceneSource : INormalSource
{
    public const string Category = "scene";

    public string Name => "scenes";
    public int Count => ProceduralTextures.AllKinds.Count;

    public NormalImage Load(int index, int size, ulong seed)
    {
        var rng = new SynthRandom(seed);
        var kinds = ProceduralTextures.AllKinds;
        var background = ProceduralTextures.Generate(kinds[rng.Next(kinds.Count)], size, ref rng);
        var surface = ProceduralTextures.Generate(kinds[index], size, ref rng);
        // Object colour: a tint towards a random, often saturated, hue (cookies, nuts, pills, skin, metal parts).
        var (tr, tg, tb) = ImageOps.Hsv(rng.Uniform(0, 360), rng.Uniform(0.1, 0.75), rng.Uniform(0.35, 0.95));
        double tint = rng.Uniform(0.3, 0.85);
        // Shape: an ellipse whose radius wobbles with the angle (harmonics 2..5), rotated, 10–55 % of the image.
        double cx = size * rng.Uniform(0.35, 0.65), cy = size * rng.Uniform(0.35, 0.65);
        double rx = size * rng.Uniform(0.2, 0.42), ry = rx * rng.Uniform(0.6, 1.0), angle = rng.Uniform(0, Math.PI);
        var amp = new double[4];
        var phase = new double[4];
        for (int k = 0; k < 4; k++) { amp[k] = rng.Uniform(0, 0.06); phase[k] = rng.Uniform(0, 2 * Math.PI); }
        bool shadow = rng.Chance(0.5);
        double sdx = size * rng.Uniform(-0.04, 0.04), sdy = size * rng.Uniform(0.01, 0.05), shading = rng.Uniform(0, 0.35);
        double cos = Math.Cos(angle), sin = Math.Sin(angle);

        // Signed "radius fraction" of a point: < 1 inside the object.
        double Radius(double x, double y)
        {
            double dx = x - cx, dy = y - cy;
            double u = (dx * cos + dy * sin) / rx, v = (-dx * sin + dy * cos) / ry;
            double phi = Math.Atan2(v, u), wobble = 1;
            for (int k = 0; k < 4; k++) wobble += amp[k] * Math.Sin((k + 2) * phi + phase[k]);
            return Math.Sqrt(u * u + v * v) / wobble;
        }

        var image = new RgbImage(size, size);
        var px = image.Pixels;
        double edge = 1.5 / Math.Min(rx, ry);   // anti-aliasing width in radius units
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                int p = y * size + x;
                double r = Radius(x + 0.5, y + 0.5);
                double inside = Math.Clamp((1 - r) / edge + 0.5, 0, 1);
                double dark = shadow ? 0.45 * Math.Clamp((1.15 - Radius(x + 0.5 - sdx, y + 0.5 - sdy)) / 0.3, 0, 1) : 0;
                double shade = 1 - shading * Math.Min(r, 1) * Math.Min(r, 1);
                for (int c = 0; c < 3; c++)
                {
                    float t = c == 0 ? tr : c == 1 ? tg : tb;
                    double obj = ((1 - tint) * surface.Pixels[p * 3 + c] + tint * t * surface.Pixels[p * 3 + c] / 160.0) * shade;
                    double bg = background.Pixels[p * 3 + c] * (1 - dark);
                    px[p * 3 + c] = ImageOps.ToByte(inside * obj + (1 - inside) * bg);
                }
            }
        return new NormalImage(image, Category, "procedural");
    }
}

/// <summary>Resolves a normal-image source by name: <c>procedural</c> (textures), <c>scenes</c> (objects on
/// backgrounds), <c>tissue</c> (mucosa and skin) or a dataset path (<see cref="Datasets.Load"/>, relative to a base directory when given; its
/// normal samples only — anomalous images' real defects would be missing from the new masks).</summary>
public static class NormalSources
{
    public static INormalSource Resolve(string spec, string? baseDir = null)
    {
        if (spec.Equals("procedural", StringComparison.OrdinalIgnoreCase)) return new ProceduralSource();
        if (spec.Equals("scenes", StringComparison.OrdinalIgnoreCase)) return new SceneSource();
        if (spec.Equals("tissue", StringComparison.OrdinalIgnoreCase)) return new TissueSource();
        if (baseDir is not null) spec = Path.GetFullPath(Path.Combine(baseDir, spec));
        var samples = Datasets.Load(spec);
        var normals = samples.Where(s => !s.IsAnomalous).ToList();
        if (normals.Count == 0) throw new DataException(spec, $"none of its {samples.Count} images is labelled normal: synthesis needs defect-free images");
        return ImageFileSource.FromSamples(spec, normals);
    }
}
