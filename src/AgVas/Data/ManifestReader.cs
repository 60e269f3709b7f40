namespace AgVas.Data;

/// <summary>
/// A CSV manifest (as the shared real set's <c>dev.csv</c>): required columns <c>source,category,label,image,mask</c>,
/// optional <c>defect</c> and <c>mask_rule</c> (<c>gt0</c> or <c>ge128</c>; empty means gt0); other columns are ignored.
/// Paths are relative to the CSV's folder; <c>;</c> joins several mask files of one image (OR-ed).
/// </summary>
internal static class ManifestReader
{
    public static IReadOnlyList<Sample> Read(string csvPath)
    {
        var table = Csv.Read(csvPath);
        var root = Path.GetDirectoryName(csvPath)!;
        int source = table.Column("source"), category = table.Column("category"), label = table.Column("label"),
            image = table.Column("image"), mask = table.Column("mask");
        int defect = table.TryColumn("defect"), rule = table.TryColumn("mask_rule");
        var samples = new List<Sample>(table.Rows.Count);
        foreach (var row in table.Rows)
        {
            var where = $"line {row.Line}";
            bool anomalous = Datasets.ParseLabel(CsvTable.Field(row, label), csvPath, where);
            var imageField = CsvTable.Field(row, image);
            if (imageField.Length == 0) throw new DataException(csvPath, $"{where}: empty image path");
            var masks = CsvTable.Field(row, mask).Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(m => Datasets.Resolve(root, m)).ToArray();
            if (anomalous && masks.Length == 0) throw new DataException(csvPath, $"{where}: anomalous image without a mask");
            var ruleField = CsvTable.Field(row, rule);
            var maskRule = MaskRule.GreaterThanZero;
            if (ruleField.Length > 0 && !MaskRules.TryParse(ruleField, out maskRule))
                throw new DataException(csvPath, $"{where}: unknown mask_rule '{ruleField}' (expected gt0 or ge128)");
            var defectField = CsvTable.Field(row, defect);
            var imagePath = Datasets.Resolve(root, imageField);
            samples.Add(new Sample(imagePath, Datasets.Relative(root, imagePath), CsvTable.Field(row, category), anomalous, masks,
                maskRule, defectField.Length > 0 ? defectField : null, NullIfEmpty(CsvTable.Field(row, source))));
        }
        return samples;
    }

    private static string? NullIfEmpty(string s) => s.Length > 0 ? s : null;
}
