using AgVas.Data;
using AgVas.Text;

namespace AgVas.Inference;

/// <summary>Progress of a prediction run, reported after each image with its record (answer and facts, or the error).</summary>
public readonly record struct PredictProgress(int Done, int Total, int Failed, string Image, PredictionRecord Record);

/// <summary>What a prediction run did: the records in dataset order and the images that failed (path and reason).</summary>
/// <param name="OutDir">the output folder</param>
/// <param name="Records">one record per image of the run (a shard's images only, for a shard)</param>
/// <param name="Failures">the images that failed, with the reason</param>
/// <param name="ResultsFile">the results file's name in <paramref name="OutDir"/> (a shard's own, for a shard)</param>
public sealed record PredictSummary(string OutDir, IReadOnlyList<PredictionRecord> Records, IReadOnlyList<(string Image, string Error)> Failures,
    string ResultsFile = PredictionFiles.ResultsFile)
{
    /// <summary>Images predicted and written.</summary>
    public int Succeeded => Records.Count - Failures.Count;

    /// <summary>How many raw model texts and final answers agree with their masks.</summary>
    public AnswerAgreementSummary Answers => AnswerAgreementSummary.Of(Records);
}

/// <summary>
/// The one prediction-writing path (<c>agvas predict</c>, <c>segment</c>, <c>test</c>, validation during training): segments
/// every sample and writes the prediction directory that the evaluator reads (<see cref="PredictionFiles"/>, named by its
/// rule), with overlays on request, plus <c>results.jsonl</c>, one record per image appended as the image finishes (and
/// rewritten in dataset order at the end), and the run manifest (<see cref="PredictionRun"/>). An image that cannot be
/// processed, for whatever reason, is recorded as failed with its path and the reason (any earlier output of it deleted),
/// and the others go on. With <c>context</c>, the images are segmented with batch or few-shot context
/// (<see cref="AnomalySegmenter.SegmentBatch"/>, category = <see cref="Sample.Category"/>, ordered by relative path);
/// without it, one by one, as always.
/// </summary>
public static class DatasetPredictor
{
    /// <summary>Predicts <paramref name="samples"/> into <paramref name="outDir"/> under their relative paths; with
    /// <paramref name="overlays"/> also writes <c>_overlay.png</c> files; with <paramref name="context"/> uses its context
    /// modes and reports fallbacks to <paramref name="warnings"/>; <paramref name="existing"/> says what to do with a
    /// folder that is not empty. The folder is checked (writable) before the first image. Progress comes in completion
    /// order (a resumed image is reported without being predicted again), the records in dataset order.
    /// <para>With <paramref name="shard"/> (N &gt; 1), only the shard's images are predicted (by path, or by category with
    /// batch context: <see cref="ShardSpec.KeyFor"/>), under the names the whole dataset gives them, with the shard's own
    /// results and manifest (<see cref="PredictionRun"/>): the union of the N shards is the unsharded run, byte for byte.
    /// The summary then holds the shard's images only.</para></summary>
    public static PredictSummary Run(AnomalySegmenter segmenter, IReadOnlyList<Sample> samples, string outDir, InstructionType? mode = null,
        IProgress<PredictProgress>? progress = null, CancellationToken cancellationToken = default, bool overlays = false,
        ContextOptions? context = null, IProgress<ContextWarning>? warnings = null, ExistingOutput existing = ExistingOutput.Overwrite,
        ShardSpec? shard = null)
    {
        if (samples.Count == 0) throw new DataException(outDir, "empty dataset: nothing to predict");
        var files = PredictionFiles.Stems([.. samples.Select(s => s.RelativePath)]).Select(stem => PredictionFiles.PathsOf(stem, overlays)).ToList();
        var dataset = samples;
        if (shard is { Count: > 1 })
        {
            var key = ShardSpec.KeyFor(context is { Batch: true });
            var selected = Enumerable.Range(0, samples.Count).Where(i => shard.Contains(samples[i], key)).ToList();
            files = selected.Select(i => files[i]).ToList();
            samples = selected.Select(i => samples[i]).ToList();
        }
        var settings = PredictionRun.Settings.Of(samples, mode, overlays, context, shard, dataset);
        var kept = PredictionRun.Prepare(outDir, existing, settings, files, samples, shard);
        var records = new PredictionRecord?[samples.Count];
        var failures = new List<(int Index, string Image, string Error)>();
        int done = 0;
        var resultsName = PredictionRun.ResultsName(shard);
        using var results = new ResultsAppender(Path.Combine(outDir, resultsName));

        void Finish(int i, Prediction? prediction, RgbImage? image, Exception? error, string? errorText = null)
        {
            var sample = samples[i];
            if (prediction is not null)
            {
                try
                {
                    PredictionFiles.Write(outDir, files[i], prediction, image!);
                    records[i] = PredictionRecord.Of(sample.RelativePath, prediction, files[i]);
                }
                catch (Exception e) when (IsPerImage(e)) { error = e; }
            }
            if (records[i] is null)
            {
                var message = errorText ?? Reason(sample.ImagePath, error);
                try { PredictionFiles.Delete(outDir, files[i]); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    message += $" (and its earlier outputs could not be deleted: {e.Message})";
                }
                records[i] = PredictionRecord.Failed(sample.RelativePath, message);
                failures.Add((i, sample.ImagePath, message));
            }
            results.Append(records[i]!);
            progress?.Report(new PredictProgress(++done, samples.Count, failures.Count, sample.RelativePath, records[i]!));
        }

        foreach (var (i, record) in kept.OrderBy(k => k.Key))
        {
            records[i] = record;
            results.Append(record);
            progress?.Report(new PredictProgress(++done, samples.Count, failures.Count, samples[i].RelativePath, record));
        }
        if (context is { UsesContext: true })
        {
            var items = samples.Select(s => new ContextItem(s.ImagePath, s.Category, s.RelativePath));
            foreach (var result in segmenter.SegmentBatch(items, context, mode, warnings, cancellationToken))
                Finish(result.Index, result.Prediction, result.Image, null, result.Prediction is null ? result.Error ?? $"{samples[result.Index].ImagePath}: not predicted" : null);
        }
        else
        {
            for (int i = 0; i < samples.Count; i++)
            {
                if (kept.ContainsKey(i)) continue;
                cancellationToken.ThrowIfCancellationRequested();
                RgbImage? image = null;
                Prediction? prediction = null;
                Exception? error = null;
                try
                {
                    image = ImageIO.LoadRgb(samples[i].ImagePath);
                    prediction = segmenter.Segment(image, mode);
                }
                catch (Exception e) when (IsPerImage(e)) { error = e; }
                Finish(i, prediction, image, error);
            }
        }
        results.Dispose();
        PredictionFiles.WriteResults(outDir, records!, resultsName);
        int failed = failures.Count;
        PredictionRun.Finish(outDir, settings, samples.Count - failed, failed, shard);
        return new PredictSummary(outDir, records!, failures.OrderBy(f => f.Index).Select(f => (f.Image, f.Error)).ToList(), resultsName);
    }

    /// <summary>Whether <paramref name="e"/> concerns one image only (anything but a cancellation): the run goes on.</summary>
    private static bool IsPerImage(Exception e) => e is not OperationCanceledException;

    /// <summary>One line naming the image and the problem; an unexpected error (e.g. from libtorch) also names its type.</summary>
    private static string Reason(string imagePath, Exception? e) => e switch
    {
        AgVasException a => a.Message.ReplaceLineEndings(" "),
        null => $"{imagePath}: not predicted",
        IOException or UnauthorizedAccessException => $"{imagePath}: {e.Message.ReplaceLineEndings(" ")}",
        _ => $"{imagePath}: {e.GetType().Name}: {FirstLine(e.Message)}",
    };

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();

    /// <summary>Appends each record to <c>results.jsonl</c> as its image finishes, flushed, so a killed run keeps them.</summary>
    private sealed class ResultsAppender(string path) : IDisposable
    {
        private readonly StreamWriter _writer = new(path, append: false) { NewLine = "\n" };

        public void Append(PredictionRecord record)
        {
            _writer.WriteLine(record.ToJson());
            _writer.Flush();
        }

        public void Dispose() => _writer.Dispose();
    }
}
