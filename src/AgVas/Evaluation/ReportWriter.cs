using System.Globalization;
using System.Text;
using System.Text.Json;
using AgVas.Inference;

namespace AgVas.Evaluation;

/// <summary>
/// Writes an <see cref="EvaluationReport"/> as <c>metrics.json</c>
/// (<c>{"categories": {name: {n_images, n_anomalous, n_normal, metric keys}}, "mean": {metric keys}}</c>, fractions
/// in [0, 1], null where undefined), <c>metrics.csv</c> (one row per category and a <c>mean</c> row) and
/// <c>metrics.md</c> (a Markdown table in percent, with notes on the IoU source and the means). Group means, when the
/// report has them, follow the overall mean: <c>"groups": {name: {categories, n_images, n_anomalous, n_normal, metric
/// keys}}</c> in JSON, rows <c>group:name</c> in CSV, rows <c>mean (name)</c> in Markdown. With the answers of a prediction
/// run (<see cref="AnswerAgreementSummary"/>), the JSON ends with <c>"answers": {n_answers, raw_agreement,
/// final_agreement, raw_agreement_by_aspect: {verdict, location, size, regions, shape}}</c> (fractions) and the Markdown
/// with a paragraph giving the same in percent; the CSV stays the metric table.
/// </summary>
public static class ReportWriter
{
    public const string JsonFile = "metrics.json";
    public const string CsvFile = "metrics.csv";
    public const string MarkdownFile = "metrics.md";

    /// <summary>Writes the three files into <paramref name="directory"/> (created if needed), each atomically.</summary>
    public static void WriteAll(EvaluationReport report, string directory, AnswerAgreementSummary? answers = null)
    {
        AtomicFile.WriteAllText(Path.Combine(directory, JsonFile), ToJson(report, answers));
        AtomicFile.WriteAllText(Path.Combine(directory, CsvFile), ToCsv(report));
        AtomicFile.WriteAllText(Path.Combine(directory, MarkdownFile), ToMarkdown(report, answers));
    }

    public static string ToJson(EvaluationReport report, AnswerAgreementSummary? answers = null)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartObject("categories");
            foreach (var c in report.Categories) WriteCounted(json, c.Category, null, c.Images, c.Anomalous, c.Normal, c.Metrics);
            json.WriteEndObject();
            json.WriteStartObject("mean");
            WriteMetrics(json, report.Mean);
            json.WriteEndObject();
            if (report.Groups.Count > 0)
            {
                json.WriteStartObject("groups");
                foreach (var g in report.Groups) WriteCounted(json, g.Name, g.Categories, g.Images, g.Anomalous, g.Normal, g.Mean);
                json.WriteEndObject();
            }
            if (answers is not null) WriteAnswers(json, answers);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>{name: {[categories,] n_images, n_anomalous, n_normal, metric keys}}.</summary>
    private static void WriteCounted(Utf8JsonWriter json, string name, IReadOnlyList<string>? categories, int images, int anomalous, int normal, MetricValues metrics)
    {
        json.WriteStartObject(name);
        if (categories is not null)
        {
            json.WriteStartArray("categories");
            foreach (var c in categories) json.WriteStringValue(c);
            json.WriteEndArray();
        }
        json.WriteNumber("n_images", images);
        json.WriteNumber("n_anomalous", anomalous);
        json.WriteNumber("n_normal", normal);
        WriteMetrics(json, metrics);
        json.WriteEndObject();
    }

    private static void WriteAnswers(Utf8JsonWriter json, AnswerAgreementSummary answers)
    {
        static void Rate(Utf8JsonWriter json, string name, double? rate)
        {
            if (rate is { } r) json.WriteNumber(name, r);
            else json.WriteNull(name);
        }
        json.WriteStartObject("answers");
        json.WriteNumber("n_answers", answers.Answers);
        Rate(json, "raw_agreement", answers.RawRate);
        Rate(json, "final_agreement", answers.FinalRate);
        json.WriteStartObject("raw_agreement_by_aspect");
        foreach (var aspect in Enum.GetValues<AnswerAspect>()) Rate(json, aspect.ToString().ToLowerInvariant(), answers.RawRateOn(aspect));
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteMetrics(Utf8JsonWriter json, MetricValues metrics)
    {
        var values = metrics.Values;
        for (int k = 0; k < MetricValues.Keys.Count; k++)
        {
            if (values[k] is { } v) json.WriteNumber(MetricValues.Keys[k], v);
            else json.WriteNull(MetricValues.Keys[k]);
        }
    }

    /// <summary>CSV with full-precision fractions; empty fields where undefined; the mean row carries total counts.</summary>
    public static string ToCsv(EvaluationReport report)
    {
        var csv = new StringBuilder();
        csv.AppendLine("category,n_images,n_anomalous,n_normal," + string.Join(",", MetricValues.Keys));
        foreach (var c in report.Categories)
            csv.AppendLine($"{Quote(c.Category)},{c.Images},{c.Anomalous},{c.Normal},{CsvValues(c.Metrics)}");
        csv.AppendLine($"mean,{report.Categories.Sum(c => c.Images)},{report.Categories.Sum(c => c.Anomalous)},{report.Categories.Sum(c => c.Normal)},{CsvValues(report.Mean)}");
        foreach (var g in report.Groups)
            csv.AppendLine($"{Quote("group:" + g.Name)},{g.Images},{g.Anomalous},{g.Normal},{CsvValues(g.Mean)}");
        return csv.ToString();
    }

    private static string CsvValues(MetricValues metrics) =>
        string.Join(",", metrics.Values.Select(v => v?.ToString("R", CultureInfo.InvariantCulture) ?? ""));

    private static string Quote(string field) =>
        field.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + field.Replace("\"", "\"\"") + "\"" : field;

    /// <summary>Column headers of the human-readable table, in <see cref="MetricValues.Keys"/> order.</summary>
    public static IReadOnlyList<string> Headers { get; } =
        ["AP", "AUROC", "F1-max", "F1 thr.", "AUPRO", "IoU_ano", "cIoU_ano", "IoU_nor", "Average", "I-AUROC", "I-AP"];

    /// <summary>A metric as the table shows it: percent with one decimal, the threshold as a score, "—" if undefined.</summary>
    public static string FormatCell(string key, double? value) => value switch
    {
        null => "—",
        { } v when key == "f1_threshold" => v.ToString("G4", CultureInfo.InvariantCulture),
        { } v => (100 * v).ToString("F1", CultureInfo.InvariantCulture),
    };

    /// <summary>The notes every table carries: what the IoU columns are and how the mean is taken.</summary>
    public static IReadOnlyList<string> Notes(EvaluationReport report) =>
    [
        report.IouSource == IouSource.OracleF1Threshold
            ? "IoU columns use each category's F1-max threshold on the map: an ORACLE threshold chosen with the ground truth (no _mask.png predictions were given)."
            : "IoU columns use the predicted masks (_mask.png).",
        "Pixel metrics are pooled per category; IoU_ano is the per-image mean (gIoU), cIoU_ano is ΣI/ΣU; Average = (IoU_ano + IoU_nor)/2.",
        "Mean: unweighted over categories, skipping categories where a metric is undefined (—); the mean Average is (mean IoU_ano + mean IoU_nor)/2.",
        "AUPRO integrates PRO up to FPR 0.3; image metrics score each image by the max of its map. Values in %, except F1 thr. (a score).",
    ];

    public static string ToMarkdown(EvaluationReport report, AnswerAgreementSummary? answers = null)
    {
        var md = new StringBuilder();
        md.AppendLine("| category | images (ano/nor) | " + string.Join(" | ", Headers) + " |");
        md.AppendLine("|---|---|" + string.Concat(Enumerable.Repeat("---:|", Headers.Count)));
        foreach (var c in report.Categories)
            md.AppendLine($"| {c.Category.Replace("|", "\\|")} | {c.Images} ({c.Anomalous}/{c.Normal}) | {MarkdownCells(c.Metrics)} |");
        int images = report.Categories.Sum(c => c.Images), anomalous = report.Categories.Sum(c => c.Anomalous);
        md.AppendLine($"| **mean** | {images} ({anomalous}/{images - anomalous}) | {MarkdownCells(report.Mean)} |");
        foreach (var g in report.Groups)
            md.AppendLine($"| **mean ({g.Name.Replace("|", "\\|")})**: {string.Join(", ", g.Categories).Replace("|", "\\|")} | {g.Images} ({g.Anomalous}/{g.Normal}) | {MarkdownCells(g.Mean)} |");
        md.AppendLine();
        foreach (var note in Notes(report)) md.AppendLine($"- {note}");
        if (answers is not null)
        {
            md.AppendLine();
            md.AppendLine($"Answers agreeing with their predicted masks (verdict, location, size, region count, shape): {answers.Describe()}.");
            md.AppendLine($"Raw model text by aspect: {answers.DescribeRawByAspect()}.");
        }
        return md.ToString();
    }

    private static string MarkdownCells(MetricValues metrics) =>
        string.Join(" | ", MetricValues.Keys.Select((k, i) => FormatCell(k, metrics.Values[i])));
}
