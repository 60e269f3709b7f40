namespace AgVas.Data;

/// <summary>
/// One entry point for every dataset layout: <see cref="Load"/> detects the layout (or takes it) and returns one
/// list of <see cref="Sample"/>; <see cref="Validate"/> checks that every file exists and that masks fit their images.
/// </summary>
public static class Datasets
{
    /// <summary>The files under <paramref name="root"/>, recursively, skipping names that start with '.' and folders
    /// that cannot be read. Symbolic links are followed, but each real folder is entered once, so a link loop ends.</summary>
    public static IEnumerable<string> FilesUnder(string root)
    {
        var options = new EnumerationOptions { IgnoreInaccessible = true, AttributesToSkip = 0 };
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<(string Path, string Real)>();
        pending.Push((root, RealPath(root, Path.GetFullPath(root))));
        while (pending.Count > 0)
        {
            var (dir, real) = pending.Pop();
            if (!seen.Add(real)) continue;
            foreach (var file in Directory.EnumerateFiles(dir, "*", options))
                if (!Path.GetFileName(file).StartsWith('.')) yield return file;
            foreach (var sub in Directory.EnumerateDirectories(dir, "*", options))
                if (!Path.GetFileName(sub).StartsWith('.')) pending.Push((sub, RealPath(sub, Path.Combine(real, Path.GetFileName(sub)))));
        }
    }

    /// <summary>Where a folder really is: its link's final target if it is a symbolic link, else <paramref name="fallback"/>.</summary>
    private static string RealPath(string dir, string fallback)
    {
        try { return new DirectoryInfo(dir).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? fallback; }
        catch (IOException) { return fallback; }
    }

    /// <summary>Image file extensions a folder scan picks up (case-insensitive).</summary>
    public static readonly IReadOnlySet<string> ImageExtensions =
        new HashSet<string>([".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif"], StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Reads a dataset. <paramref name="path"/> is a folder (MVTec root or category, VisA root, a folder holding
    /// meta.json, or any folder of images), a <c>.csv</c> (manifest or VisA 1cls.csv), a <c>meta.json</c> or one image.
    /// Samples come in a stable order. File contents are not opened here; call <see cref="Validate"/> for that.
    /// </summary>
    public static IReadOnlyList<Sample> Load(string path, DatasetFormat? format = null, DatasetOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = Path.GetFullPath(path);
        if (!File.Exists(full) && !Directory.Exists(full)) throw new DataException(path, "no such file or folder");
        options ??= new DatasetOptions();
        var kind = format ?? Detect(full);
        IReadOnlyList<Sample> samples = kind switch
        {
            DatasetFormat.MVTec => MvtecReader.Read(RequireFolder(full, kind), options),
            DatasetFormat.VisA => VisaReader.Read(full, options),
            DatasetFormat.MetaJson => MetaJsonReader.Read(Directory.Exists(full) ? Path.Combine(full, "meta.json") : full, options),
            DatasetFormat.ImageFolder => ImageFolderReader.Read(full),
            DatasetFormat.Manifest => ManifestReader.Read(RequireFile(full, kind)),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown dataset format"),
        };
        if (samples.Count == 0) throw new DataException(path, $"empty dataset: no images found (read as {kind})");
        return samples;
    }

    /// <summary>Which layout <see cref="Load"/> would read <paramref name="path"/> as.</summary>
    public static DatasetFormat Detect(string path)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full))
        {
            var ext = Path.GetExtension(full);
            if (ext.Equals(".csv", StringComparison.OrdinalIgnoreCase))
            {
                var table = Csv.Read(full);
                return table.Has("object", "split") && !table.Has("source") ? DatasetFormat.VisA : DatasetFormat.Manifest;
            }
            if (ext.Equals(".json", StringComparison.OrdinalIgnoreCase)) return DatasetFormat.MetaJson;
            if (ImageExtensions.Contains(ext)) return DatasetFormat.ImageFolder;
            throw new DataException(path, "not a dataset: expected a folder, a .csv manifest, a meta.json or an image");
        }
        if (!Directory.Exists(full)) throw new DataException(path, "no such file or folder");
        if (File.Exists(Path.Combine(full, "meta.json"))) return DatasetFormat.MetaJson;
        if (File.Exists(Path.Combine(full, "split_csv", "1cls.csv"))) return DatasetFormat.VisA;
        if (MvtecReader.IsCategory(full) || MvtecReader.Categories(full).Any()) return DatasetFormat.MVTec;
        return DatasetFormat.ImageFolder;
    }

    /// <summary>
    /// Checks every image and mask file: it exists, its header is readable, and each mask has its image's size
    /// (headers only, no pixel decoding). The first problem is thrown as a <see cref="DataException"/> naming the file.
    /// </summary>
    public static void Validate(IReadOnlyList<Sample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0) throw new DataException("(dataset)", "empty dataset: no samples to validate");
        foreach (var sample in samples)
        {
            var imageSize = ImageIO.ReadSize(sample.ImagePath);
            foreach (var mask in sample.MaskPaths)
            {
                var maskSize = ImageIO.ReadSize(mask);
                if (maskSize != imageSize) throw ImageIO.SizeMismatch(mask, maskSize, sample.ImagePath, imageSize);
            }
        }
    }

    /// <summary>Resolves a path written in a dataset file (either separator) against <paramref name="root"/>.</summary>
    internal static string Resolve(string root, string relative) =>
        Path.GetFullPath(Path.Combine(root, relative.Replace('\\', '/').Replace('/', Path.DirectorySeparatorChar)));

    /// <summary>The path of <paramref name="file"/> relative to <paramref name="root"/>, with '/' separators. A file
    /// outside the root (a manifest listing <c>../x.png</c>) has each <c>..</c> spelled <see cref="ParentSegment"/> (and a
    /// path on another drive loses its root), so that prediction files named after it stay inside their directory.</summary>
    internal static string Relative(string root, string file)
    {
        var relative = Path.GetRelativePath(root, file);
        if (Path.IsPathRooted(relative)) relative = relative[Path.GetPathRoot(relative)!.Length..];
        return string.Join('/', relative.Split(Path.DirectorySeparatorChar, '/').Select(s => s == ".." ? ParentSegment : s));
    }

    /// <summary>How a <c>..</c> segment appears in <see cref="Sample.RelativePath"/>.</summary>
    public const string ParentSegment = "__up__";

    internal static bool IsImageFile(string path) =>
        ImageExtensions.Contains(Path.GetExtension(path)) && !Path.GetFileName(path).StartsWith('.');

    /// <summary>Image files directly in <paramref name="folder"/>, in ordinal order.</summary>
    internal static IEnumerable<string> ImagesIn(string folder) =>
        Directory.EnumerateFiles(folder).Where(IsImageFile).Order(StringComparer.Ordinal);

    /// <summary>Parses a label field of a CSV or JSON dataset file; anything unknown is an error naming the file.</summary>
    internal static bool ParseLabel(string value, string file, string where) => value.Trim().ToLowerInvariant() switch
    {
        "anomalous" or "anomaly" or "abnormal" or "defect" or "bad" or "1" or "true" => true,
        "normal" or "good" or "0" or "false" => false,
        _ => throw new DataException(file, $"{where}: bad label '{value}' (expected anomalous/anomaly/1 or normal/good/0)"),
    };

    private static string RequireFolder(string path, DatasetFormat kind) =>
        Directory.Exists(path) ? path : throw new DataException(path, $"a {kind} dataset is a folder, not a file");

    private static string RequireFile(string path, DatasetFormat kind) =>
        File.Exists(path) ? path : throw new DataException(path, $"a {kind} dataset is a file, not a folder");
}
