namespace AgVas.Data;

/// <summary>
/// MVTec AD layout: <c>&lt;category&gt;/test/{good,&lt;defect&gt;}/*.png</c> with masks
/// <c>&lt;category&gt;/ground_truth/&lt;defect&gt;/&lt;stem&gt;_mask.png</c> (or <c>&lt;stem&gt;.png</c>). The root is the dataset
/// (one folder per category) or one category folder. MVTec 3D-AD's <c>test/&lt;defect&gt;/{rgb,gt}/</c> is read too.
/// </summary>
internal static class MvtecReader
{
    public static bool IsCategory(string folder) =>
        Directory.Exists(Path.Combine(folder, "test")) &&
        (Directory.Exists(Path.Combine(folder, "ground_truth")) || Directory.Exists(Path.Combine(folder, "train")));

    /// <summary>The category folders of a root: every sub-folder holding test/, once one of them is a full category
    /// (<see cref="IsCategory"/>). A category whose test images are all good has no ground_truth/, and in a synthetic set
    /// (<c>agvas synth</c>) no train/ either: it is still read, not silently dropped.</summary>
    public static IReadOnlyList<string> Categories(string root)
    {
        var withTest = Directory.EnumerateDirectories(root)
            .Where(d => !Path.GetFileName(d).StartsWith('.') && Directory.Exists(Path.Combine(d, "test")))
            .Order(StringComparer.Ordinal).ToList();
        return withTest.Any(IsCategory) ? withTest : [];
    }

    public static IReadOnlyList<Sample> Read(string root, DatasetOptions options)
    {
        var categories = IsCategory(root) ? [root] : Categories(root);
        if (categories.Count == 0)
            throw new DataException(root, "not an MVTec layout: no category folder with test/ and ground_truth/ (or train/)");
        var source = Path.GetFileName(root);
        var samples = new List<Sample>();
        foreach (var category in categories)
        {
            var name = Path.GetFileName(category);
            var test = Path.Combine(category, "test");
            foreach (var defectDir in Directory.EnumerateDirectories(test).Where(d => !Path.GetFileName(d).StartsWith('.')).Order(StringComparer.Ordinal))
            {
                var defect = Path.GetFileName(defectDir);
                bool threeD = Directory.Exists(Path.Combine(defectDir, "rgb"));
                var imageDir = threeD ? Path.Combine(defectDir, "rgb") : defectDir;
                foreach (var image in Datasets.ImagesIn(imageDir))
                {
                    bool anomalous = defect != "good";
                    string[] masks = anomalous ? [FindMask(category, defect, defectDir, image, threeD)] : [];
                    samples.Add(new Sample(image, Datasets.Relative(root, image), name, anomalous, masks, MaskRule.GreaterThanZero, defect, source));
                }
            }
            var trainGood = Path.Combine(category, "train", "good");
            if (options.IncludeTrainGood && Directory.Exists(trainGood))
                foreach (var image in Datasets.ImagesIn(trainGood))
                    samples.Add(new Sample(image, Datasets.Relative(root, image), name, false, [], MaskRule.GreaterThanZero, "good", source));
        }
        return samples;
    }

    private static string FindMask(string category, string defect, string defectDir, string image, bool threeD)
    {
        var stem = Path.GetFileNameWithoutExtension(image);
        var folder = threeD ? Path.Combine(defectDir, "gt") : Path.Combine(category, "ground_truth", defect);
        string[] names = threeD ? [stem] : [stem + "_mask", stem];
        foreach (var n in names)
            foreach (var ext in new[] { ".png", ".bmp", ".jpg", ".jpeg", ".PNG" })
            {
                var candidate = Path.Combine(folder, n + ext);
                if (File.Exists(candidate)) return candidate;
            }
        throw new DataException(image, $"missing mask: expected {Path.Combine(folder, names[0] + ".png")}");
    }
}
