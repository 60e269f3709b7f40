namespace AgVas.Data;

/// <summary>
/// VisA: <c>split_csv/1cls.csv</c> with columns <c>object,split,label,image,mask</c>, paths relative to the VisA root
/// (the folder holding <c>split_csv/</c>). Masks hold small class ids: binarised with <c>!= 0</c> on the stored value.
/// </summary>
internal static class VisaReader
{
    public static IReadOnlyList<Sample> Read(string path, DatasetOptions options)
    {
        string csvPath, root;
        if (Directory.Exists(path))
        {
            root = path;
            csvPath = Path.Combine(path, "split_csv", "1cls.csv");
        }
        else
        {
            csvPath = path;
            var dir = Path.GetDirectoryName(path)!;
            root = Path.GetFileName(dir).Equals("split_csv", StringComparison.OrdinalIgnoreCase) ? Path.GetDirectoryName(dir)! : dir;
        }
        var table = Csv.Read(csvPath);
        int obj = table.Column("object"), split = table.Column("split"), label = table.Column("label"),
            image = table.Column("image"), mask = table.Column("mask");
        var source = Path.GetFileName(root);
        var samples = new List<Sample>();
        var splits = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var row in table.Rows)
        {
            var rowSplit = CsvTable.Field(row, split);
            splits.Add(rowSplit);
            if (!rowSplit.Equals(options.Split, StringComparison.OrdinalIgnoreCase)) continue;
            var where = $"line {row.Line}";
            bool anomalous = Datasets.ParseLabel(CsvTable.Field(row, label), csvPath, where);
            var imageField = CsvTable.Field(row, image);
            if (imageField.Length == 0) throw new DataException(csvPath, $"{where}: empty image path");
            var maskField = CsvTable.Field(row, mask);
            if (anomalous && maskField.Length == 0) throw new DataException(csvPath, $"{where}: anomalous image without a mask");
            var imagePath = Datasets.Resolve(root, imageField);
            string[] masks = maskField.Length > 0 ? [Datasets.Resolve(root, maskField)] : [];
            samples.Add(new Sample(imagePath, Datasets.Relative(root, imagePath), CsvTable.Field(row, obj), anomalous, masks,
                MaskRule.GreaterThanZero, anomalous ? null : "good", source));
        }
        if (samples.Count == 0 && table.Rows.Count > 0)
            throw new DataException(csvPath, $"no rows with split '{options.Split}' (splits present: {string.Join(", ", splits)})");
        return samples;
    }
}
