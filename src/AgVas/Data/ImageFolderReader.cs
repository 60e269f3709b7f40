namespace AgVas.Data;

/// <summary>
/// A plain folder of images (recursive), for prediction: the category is the sub-folder path relative to the root
/// ("images" for files at the root); labels are unknown, so every image is taken as normal and has no mask.
/// A single image file is a dataset of one.
/// </summary>
internal static class ImageFolderReader
{
    public const string RootCategory = "images";

    public static IReadOnlyList<Sample> Read(string path)
    {
        if (File.Exists(path))
        {
            if (!Datasets.IsImageFile(path)) throw new DataException(path, "not an image file (by extension)");
            return [new Sample(path, Path.GetFileName(path), RootCategory, false, [], MaskRule.GreaterThanZero, null, null)];
        }
        var source = Path.GetFileName(path);
        return Datasets.FilesUnder(path)
            .Where(Datasets.IsImageFile)
            .Order(StringComparer.Ordinal)
            .Select(f =>
            {
                var relative = Datasets.Relative(path, f);
                var folder = Path.GetDirectoryName(relative)?.Replace(Path.DirectorySeparatorChar, '/');
                return new Sample(f, relative, string.IsNullOrEmpty(folder) ? RootCategory : folder, false, [], MaskRule.GreaterThanZero, null, source);
            })
            .ToList();
    }
}
