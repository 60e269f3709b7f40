using AgVas.Data;
using AgVas.Text;

namespace AgVas.Inference;

/// <summary>Progress of a prediction run, reported after each image with its record (answer and facts, or the error).</summary>
public readonly record struct PredictProgress(int Done, int Total, int Failed, string Image, PredictionRecord Record);

/// <summary>What a prediction run did: the records in dataset order and the images that failed (path and reason).</summary>
public sealed record PredictSummary(string OutDir, IReadOnlyList<PredictionRecord> Records, IReadOnlyList<(string Image, string Error)> Failures)
{
    /// <summary>Images predicted and written.</summary>
    public int Succeeded => Records.Count - Failures.Count;

    /// <summary>How many raw model texts and final answers agree with their masks.</summary>
    public AnswerAgreementSummary Answers => AnswerAgreementSummary.Of(Records);
}

/// <summary>
/// The one prediction-writing path (<c>agvas predict</c>, <c>segment</c>, <c>test</c>, validation during training): segments
/// every sample and writes the prediction directory that the evaluator reads (<see cref="PredictionFiles"/>), with
/// overlays on request, plus <c>results.jsonl</c>. An image that cannot be read is recorded as failed and skipped; the
/// others are processed. With <c>context</c>, the images are segmented with batch or few-shot context
/// (<see cref="AnomalySegmenter.SegmentBatch"/>, category = <see cref="Sample.Category"/>, ordered by relative path);
/// without it, one by one, as always.
/// </summary>
public static class DatasetPredictor
{
    /// <summary>Predicts <paramref name="samples"/> into <paramref name="outDir"/> under their relative paths; with
    /// <paramref name="overlays"/> also writes <c>_overlay.png</c> files; with <paramref name="context"/> uses its context
    /// modes and reports fallbacks to <paramref name="warnings"/>. Progress comes in completion order, the records in dataset order.</summary>
    public static PredictSummary Run(AnomalySegmenter segmenter, IReadOnlyList<Sample> samples, string outDir, InstructionType? mode = null,
        IProgress<PredictProgress>? progress = null, CancellationToken cancellationToken = default, bool overlays = false,
        ContextOptions? context = null, IProgress<ContextWarning>? warnings = null)
    {
        if (samples.Count == 0) throw new DataException(outDir, "empty dataset: nothing to predict");
        Directory.CreateDirectory(outDir);
        if (context is { UsesContext: true }) return RunWithContext(segmenter, samples, outDir, mode, progress, cancellationToken, overlays, context, warnings);
        var records = new List<PredictionRecord>(samples.Count);
        var failures = new List<(string, string)>();
        for (int i = 0; i < samples.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var sample = samples[i];
            try
            {
                var image = ImageIO.LoadRgb(sample.ImagePath);
                var prediction = segmenter.Segment(image, mode);
                PredictionFiles.WriteMapAndMask(outDir, sample.RelativePath, prediction);
                if (overlays) PredictionFiles.WriteOverlay(outDir, sample.RelativePath, image, prediction);
                records.Add(PredictionRecord.Of(sample.RelativePath, prediction));
            }
            catch (Exception e) when (e is AgVasException or IOException or UnauthorizedAccessException)
            {
                var message = e.Message.ReplaceLineEndings(" ");
                records.Add(PredictionRecord.Failed(sample.RelativePath, message));
                failures.Add((sample.ImagePath, message));
            }
            progress?.Report(new PredictProgress(i + 1, samples.Count, failures.Count, sample.RelativePath, records[^1]));
        }
        PredictionFiles.WriteResults(outDir, records);
        return new PredictSummary(outDir, records, failures);
    }

    private static PredictSummary RunWithContext(AnomalySegmenter segmenter, IReadOnlyList<Sample> samples, string outDir, InstructionType? mode,
        IProgress<PredictProgress>? progress, CancellationToken cancellationToken, bool overlays, ContextOptions context,
        IProgress<ContextWarning>? warnings)
    {
        var records = new PredictionRecord[samples.Count];
        var failures = new List<(int Index, string Image, string Error)>();
        int done = 0;
        var items = samples.Select(s => new ContextItem(s.ImagePath, s.Category, s.RelativePath));
        foreach (var result in segmenter.SegmentBatch(items, context, mode, warnings, cancellationToken))
        {
            var sample = samples[result.Index];
            try
            {
                if (result.Prediction is not { } prediction) throw new DataException(sample.ImagePath, result.Error ?? "not predicted");
                PredictionFiles.WriteMapAndMask(outDir, sample.RelativePath, prediction);
                if (overlays) PredictionFiles.WriteOverlay(outDir, sample.RelativePath, result.Image!, prediction);
                records[result.Index] = PredictionRecord.Of(sample.RelativePath, prediction);
            }
            catch (Exception e) when (e is AgVasException or IOException or UnauthorizedAccessException)
            {
                var message = result.Error ?? e.Message.ReplaceLineEndings(" ");
                records[result.Index] = PredictionRecord.Failed(sample.RelativePath, message);
                failures.Add((result.Index, sample.ImagePath, message));
            }
            progress?.Report(new PredictProgress(++done, samples.Count, failures.Count, sample.RelativePath, records[result.Index]));
        }
        PredictionFiles.WriteResults(outDir, records);
        return new PredictSummary(outDir, records, failures.OrderBy(f => f.Index).Select(f => (f.Image, f.Error)).ToList());
    }
}
