using AgVas.Context;
using AgVas.Data;

namespace AgVas.Inference;

/// <summary>
/// Few-shot context (#16, docs/design.md §11): the normal patches of k ≥ 1 known-good images per category, one
/// <see cref="NormalMemory"/> each, built once and reused for any number of images and threads. Pass it as
/// <see cref="ContextOptions.Normals"/>.
/// <para>Categories: a dataset or CSV manifest gives each image's <c>category</c>; in a plain folder an image's category
/// is the name of the folder holding it, and images directly in the folder serve every category that has none of its
/// own. Images labelled anomalous are not references.</para>
/// </summary>
public sealed class ReferenceSet : IDisposable
{
    private readonly Dictionary<string, NormalMemory> memories;
    private readonly NormalMemory? shared;

    private ReferenceSet(Dictionary<string, NormalMemory> memories, NormalMemory? shared, PatchDescriptorConfig descriptors,
        int images, IReadOnlyList<(string Image, string Error)> skipped)
    {
        this.memories = memories;
        this.shared = shared;
        Descriptors = descriptors;
        ImageCount = images;
        Skipped = skipped;
    }

    /// <summary>How the references' (and the scored images') patches are described.</summary>
    public PatchDescriptorConfig Descriptors { get; }

    /// <summary>The categories with references of their own, in ordinal order.</summary>
    public IReadOnlyList<string> Categories => memories.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>True when some references serve every category (images at a reference folder's root).</summary>
    public bool HasSharedReferences => shared is not null;

    /// <summary>Reference images in the memories.</summary>
    public int ImageCount { get; }

    /// <summary>Reference images that could not be read (path and reason); the others were used.</summary>
    public IReadOnlyList<(string Image, string Error)> Skipped { get; }

    /// <summary>The memory that scores <paramref name="category"/>: its own, else the shared one, else null.</summary>
    public NormalMemory? For(string category) => memories.TryGetValue(category, out var m) ? m : shared;

    /// <summary>
    /// Builds the set from <paramref name="path"/>: a folder of good images or any dataset <see cref="Datasets.Load"/> reads
    /// (e.g. a CSV manifest whose <c>category</c> column assigns the references). Unreadable images are skipped
    /// (<see cref="Skipped"/>); a set with no readable image is a <see cref="DataException"/> naming the path.
    /// </summary>
    public static ReferenceSet Load(string path, PatchDescriptorConfig? descriptors = null, NormalMemoryConfig? memory = null,
        CancellationToken cancellationToken = default)
    {
        var samples = Datasets.Load(path);
        bool folder = Datasets.Detect(Path.GetFullPath(path)) == DatasetFormat.ImageFolder && Directory.Exists(path);
        var root = Path.GetFullPath(path);
        var references = samples.Where(s => !s.IsAnomalous)
            .OrderBy(s => s.RelativePath, StringComparer.Ordinal)
            .Select(s => (Category: folder ? FolderCategory(root, s.ImagePath) : s.Category, s.ImagePath));
        return Build(references, path, descriptors, memory, cancellationToken);
    }

    /// <summary>The key under which references that serve every category (no category) are counted.</summary>
    private const string SharedKey = "\0shared";

    /// <summary>Builds the set from (category, image file) pairs; a null category serves every category without its own.
    /// <paramref name="name"/> names the set in errors.</summary>
    public static ReferenceSet Build(IEnumerable<(string? Category, string ImagePath)> references, string name,
        PatchDescriptorConfig? descriptors = null, NormalMemoryConfig? memory = null, CancellationToken cancellationToken = default)
    {
        descriptors ??= ContextOptions.DefaultDescriptors;
        memory ??= new NormalMemoryConfig();
        descriptors.Validate();
        memory.Validate();
        var skipped = new List<(string, string)>();
        var perCategory = new Dictionary<string, List<PatchDescriptors>>(StringComparer.Ordinal);
        var decoded = new Dictionary<string, int>(StringComparer.Ordinal);                          // images per category (or SharedKey)
        var sharedDescriptors = new List<PatchDescriptors>();
        var memories = new Dictionary<string, NormalMemory>(StringComparer.Ordinal);
        NormalMemory? shared = null;
        int images = 0;
        try
        {
            var listed = references.ToList();
            var counts = listed.GroupBy(r => r.Category ?? SharedKey).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            foreach (var (category, imagePath) in listed)
            {
                cancellationToken.ThrowIfCancellationRequested();
                RgbImage image;
                try { image = ImageIO.LoadRgb(imagePath); }
                catch (Exception e) when (e is AgVasException or IOException or UnauthorizedAccessException)
                {
                    skipped.Add((imagePath, e.Message.ReplaceLineEndings(" ")));
                    continue;
                }
                var list = category is null ? sharedDescriptors
                    : perCategory.TryGetValue(category, out var l) ? l : perCategory[category] = [];
                var key = category ?? SharedKey;
                foreach (var view in counts[key] <= memory.DihedralUpTo ? image.DihedralViews() : [image])
                    list.Add(PatchDescriptors.Compute(view, descriptors));
                decoded[key] = decoded.GetValueOrDefault(key) + 1;
                images++;
            }
            if (images == 0)
                throw new DataException(name, "no decodable reference image" + (skipped.Count > 0 ? $" ({skipped.Count} unreadable, e.g. {skipped[0].Item2})" : "") +
                    "; give a folder of good images or a CSV manifest with a category column");
            foreach (var (category, list) in perCategory) memories[category] = NormalMemory.Build(list, memory, images: decoded[category]);
            if (sharedDescriptors.Count > 0) shared = NormalMemory.Build(sharedDescriptors, memory, images: decoded[SharedKey]);
            return new ReferenceSet(memories, shared, descriptors, images, skipped);
        }
        catch
        {
            foreach (var m in memories.Values) m.Dispose();
            shared?.Dispose();
            throw;
        }
        finally
        {
            foreach (var d in perCategory.Values.SelectMany(l => l).Concat(sharedDescriptors)) d.Dispose();
        }
    }

    /// <summary>The category of a reference image in a plain folder: its folder's name, or null (every category) at the root.</summary>
    private static string? FolderCategory(string root, string imagePath)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(imagePath));
        return directory is null || Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar) == root.TrimEnd(Path.DirectorySeparatorChar)
            ? null
            : Path.GetFileName(directory);
    }

    /// <summary>Frees the memories.</summary>
    public void Dispose()
    {
        foreach (var m in memories.Values) m.Dispose();
        shared?.Dispose();
    }
}
