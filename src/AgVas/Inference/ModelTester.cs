using AgVas.Data;
using AgVas.Evaluation;
using AgVas.Text;

namespace AgVas.Inference;

/// <summary>The outcome of <see cref="ModelTester.Run"/>: what was predicted and the metrics of what could be.</summary>
public sealed record TestResult(PredictSummary Predictions, EvaluationReport Report);

/// <summary>
/// <c>agvas test</c> as a library call: predict a dataset into <c>&lt;out&gt;/predictions</c>, then score it with
/// <see cref="Evaluator"/> and write <c>&lt;out&gt;/metrics.{json,csv,md}</c>, with the agreement of the answers with the
/// masks (<see cref="AnswerAgreementSummary"/>) in the JSON and Markdown. Images that could not be read are left
/// out of the metrics (and listed in <see cref="PredictSummary.Failures"/>). <c>groups</c> adds group means
/// (<see cref="EvaluationReport.WithGroups"/>).
/// </summary>
public static class ModelTester
{
    /// <summary>The predictions' subdirectory of the output directory.</summary>
    public const string PredictionsDir = "predictions";

    /// <summary>Where the metrics go: <paramref name="outDir"/>, or <c>&lt;out&gt;/shard-K-of-N</c> for a shard (its images
    /// only; shards share <paramref name="outDir"/>).</summary>
    public static string ReportDir(string outDir, ShardSpec? shard) =>
        shard is { Count: > 1 } ? Path.Combine(outDir, $"shard-{shard.Index}-of-{shard.Count}") : outDir;

    /// <summary>Predicts <paramref name="samples"/> into <c>&lt;outDir&gt;/predictions</c> and scores them; writes the reports
    /// when <paramref name="writeReports"/>; <paramref name="context"/>, <paramref name="warnings"/> and <paramref name="existing"/> as in <see cref="DatasetPredictor.Run"/>.</summary>
    public static TestResult Run(AnomalySegmenter segmenter, IReadOnlyList<Sample> samples, string outDir, InstructionType? mode = null,
        IProgress<PredictProgress>? progress = null, CancellationToken cancellationToken = default, bool writeReports = true,
        IEnumerable<(string Name, IReadOnlyList<string> Categories)>? groups = null, ContextOptions? context = null,
        IProgress<ContextWarning>? warnings = null, ExistingOutput existing = ExistingOutput.Overwrite, ShardSpec? shard = null)
    {
        var predictions = Path.Combine(outDir, PredictionsDir);
        var summary = DatasetPredictor.Run(segmenter, samples, predictions, mode, progress, cancellationToken, context: context, warnings: warnings,
            existing: existing, shard: shard);
        var failed = summary.Failures.Select(f => f.Image).ToHashSet(StringComparer.Ordinal);
        var predicted = summary.Records.Select(r => r.Image).ToHashSet(StringComparer.Ordinal);      // the shard's images
        var scored = samples.Where(s => predicted.Contains(s.RelativePath) && !failed.Contains(s.ImagePath)).ToList();
        if (scored.Count == 0) throw new DataException(predictions, "no image could be predicted: nothing to evaluate");
        var report = new Evaluator().Evaluate(scored, new PredictionDirectory(predictions, shard: shard), cancellationToken: cancellationToken)
            .WithGroups(groups ?? []);
        if (writeReports) ReportWriter.WriteAll(report, ReportDir(outDir, shard), summary.Answers);
        return new TestResult(summary, report);
    }
}
