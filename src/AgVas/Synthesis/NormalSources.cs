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
