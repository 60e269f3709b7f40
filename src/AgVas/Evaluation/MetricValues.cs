namespace AgVas.Evaluation;

/// <summary>
/// The metrics of docs/design.md §9 for one category (or their mean over categories). Fractions in [0, 1] except
/// <see cref="F1Threshold"/> (a score); null where a metric is undefined for the category.
/// </summary>
/// <param name="Ap">Pixel average precision (step sum, scikit-learn's average_precision_score).</param>
/// <param name="Auroc">Pixel AUROC.</param>
/// <param name="F1Max">Pixel F1-max over the precision-recall curve's thresholds.</param>
/// <param name="F1Threshold">The score threshold (score &gt;= it is anomaly) that attains <see cref="F1Max"/>.</param>
/// <param name="Aupro">AUPRO up to FPR 0.3, normalised by 0.3 (MVTec AD definition).</param>
/// <param name="IouAno">Mean per-image IoU over anomalous images (gIoU style).</param>
/// <param name="IouAnoCumulative">ΣI / ΣU over anomalous images (cIoU style).</param>
/// <param name="IouNor">Fraction of normal images whose predicted mask is empty.</param>
/// <param name="Average">(IoU_ano + IoU_nor) / 2.</param>
/// <param name="ImageAuroc">Image AUROC with the image score = max of the map.</param>
/// <param name="ImageAp">Image AP with the image score = max of the map.</param>
public sealed record MetricValues(
    double? Ap,
    double? Auroc,
    double? F1Max,
    double? F1Threshold,
    double? Aupro,
    double? IouAno,
    double? IouAnoCumulative,
    double? IouNor,
    double? Average,
    double? ImageAuroc,
    double? ImageAp)
{
    /// <summary>The keys of metrics.json / metrics.csv, in report order.</summary>
    public static IReadOnlyList<string> Keys { get; } =
        ["ap", "auroc", "f1_max", "f1_threshold", "aupro", "iou_ano", "iou_ano_cumulative", "iou_nor", "average", "image_auroc", "image_ap"];

    /// <summary>The values in the order of <see cref="Keys"/>.</summary>
    public IReadOnlyList<double?> Values =>
        [Ap, Auroc, F1Max, F1Threshold, Aupro, IouAno, IouAnoCumulative, IouNor, Average, ImageAuroc, ImageAp];

    /// <summary>(IoU_ano + IoU_nor) / 2, or null unless both are defined.</summary>
    public static double? AverageOf(double? iouAno, double? iouNor) => iouAno is { } a && iouNor is { } n ? (a + n) / 2 : null;

    /// <summary>
    /// The unweighted mean over categories of each metric, skipping categories where it is null (null if all are).
    /// The mean F1 threshold is null: thresholds are per category and their mean thresholds nothing. The mean
    /// <see cref="Average"/> is (mean IoU_ano + mean IoU_nor) / 2, so that every row of a table satisfies its definition.
    /// </summary>
    public static MetricValues MeanOf(IReadOnlyList<MetricValues> categories)
    {
        double? Mean(Func<MetricValues, double?> pick)
        {
            var values = categories.Select(pick).OfType<double>().ToList();
            return values.Count > 0 ? values.Average() : null;
        }

        var iouAno = Mean(m => m.IouAno);
        var iouNor = Mean(m => m.IouNor);
        return new MetricValues(
            Mean(m => m.Ap), Mean(m => m.Auroc), Mean(m => m.F1Max), null, Mean(m => m.Aupro),
            iouAno, Mean(m => m.IouAnoCumulative), iouNor, AverageOf(iouAno, iouNor),
            Mean(m => m.ImageAuroc), Mean(m => m.ImageAp));
    }
}

/// <summary>The metrics of one category with its image counts.</summary>
public sealed record CategoryMetrics(string Category, int Images, int Anomalous, int Normal, MetricValues Metrics);

/// <summary>Where the binary masks behind the IoU metrics come from.</summary>
public enum IouSource
{
    /// <summary>The predictor's own masks (<c>_mask.png</c> files, or masks passed in).</summary>
    PredictedMasks,
    /// <summary>The map thresholded at each category's F1-max threshold: an oracle, chosen with the ground truth.</summary>
    OracleF1Threshold,
}

/// <summary>The mean over a named group of categories (e.g. industrial, medical) with the group's image counts.</summary>
public sealed record GroupMetrics(string Name, IReadOnlyList<string> Categories, int Images, int Anomalous, int Normal, MetricValues Mean);

/// <summary>The result of an evaluation: per-category metrics (ordered by name), their mean, and optional group means.</summary>
public sealed record EvaluationReport(IReadOnlyList<CategoryMetrics> Categories, MetricValues Mean, IouSource IouSource)
{
    /// <summary>Means over named groups of categories, in the order given to <see cref="WithGroups"/>.</summary>
    public IReadOnlyList<GroupMetrics> Groups { get; init; } = [];

    /// <summary>This report with the unweighted mean (as <see cref="MetricValues.MeanOf"/>) of each named group of
    /// categories. A group naming a category the report lacks, or naming none, is an <see cref="ArgumentException"/>.</summary>
    public EvaluationReport WithGroups(IEnumerable<(string Name, IReadOnlyList<string> Categories)> groups)
    {
        var byName = Categories.ToDictionary(c => c.Category, StringComparer.Ordinal);
        var result = new List<GroupMetrics>();
        foreach (var (name, names) in groups)
        {
            if (names.Count == 0) throw new ArgumentException($"group '{name}' names no category");
            var members = names.Select(n => byName.TryGetValue(n, out var c) ? c
                : throw new ArgumentException($"group '{name}': no category '{n}' in the evaluated data (categories: {string.Join(", ", byName.Keys)})")).ToList();
            result.Add(new GroupMetrics(name, names, members.Sum(c => c.Images), members.Sum(c => c.Anomalous), members.Sum(c => c.Normal),
                MetricValues.MeanOf(members.Select(c => c.Metrics).ToList())));
        }
        return this with { Groups = result };
    }

    /// <summary>Parses <c>name=category,category,...</c> (the command line's --group).</summary>
    public static (string Name, IReadOnlyList<string> Categories) ParseGroup(string text)
    {
        int eq = text.IndexOf('=');
        if (eq <= 0 || eq == text.Length - 1) throw new ArgumentException($"--group '{text}': expected name=category[,category...]");
        return (text[..eq].Trim(), text[(eq + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }
}

/// <summary>Progress of an evaluation, reported per loaded image.</summary>
public readonly record struct EvaluationProgress(int ImagesDone, int ImagesTotal, int CategoriesDone, int CategoriesTotal, string Category);
