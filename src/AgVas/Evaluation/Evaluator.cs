using AgVas.Data;

namespace AgVas.Evaluation;

/// <summary>Evaluation settings.</summary>
public sealed record EvaluatorOptions
{
    /// <summary>Threads for loading images and the per-image steps (-1: all cores).</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>AUPRO's FPR integration limit (MVTec AD: 0.3).</summary>
    public double AuproFprLimit { get; init; } = Aupro.DefaultFprLimit;
}

/// <summary>
/// The evaluation protocol of docs/design.md §9: metrics per category on the pooled pixels of all its test images
/// (normal images included), then the unweighted mean over categories, skipping categories where a metric is
/// undefined. Categories are evaluated in name order; images are loaded and labelled in parallel, and the next category
/// loads while the current one is sorted and swept, so memory holds two categories at a time (about 5 bytes per pixel
/// of map and ground truth each, plus 16 bytes per pixel of sort keys for the larger).
/// </summary>
public sealed class Evaluator(EvaluatorOptions? options = null)
{
    private readonly EvaluatorOptions _options = options ?? new EvaluatorOptions();

    /// <summary>
    /// Scores the predictions in <paramref name="predictions"/> against the samples' ground truth. Throws
    /// <see cref="DataException"/> naming the file for missing or bad predictions and ground truth.
    /// Progress is reported from worker threads.
    /// </summary>
    public EvaluationReport Evaluate(IReadOnlyList<Sample> samples, PredictionDirectory predictions,
        IProgress<EvaluationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(predictions);
        if (samples.Count == 0) throw new ArgumentException("no samples to evaluate", nameof(samples));
        var source = predictions.Check(samples);
        var groups = samples.GroupBy(s => s.Category).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => g.ToList()).ToList();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = _options.MaxDegreeOfParallelism, CancellationToken = cancellationToken };
        int done = 0;

        EvaluationImage[] Load(int c) => predictions.LoadCategory(groups[c], source, parallel, () =>
            progress?.Report(new EvaluationProgress(Interlocked.Increment(ref done), samples.Count, c, groups.Count, groups[c][0].Category)));

        // While one category is ranked (a single-threaded sort and sweep), the next one loads on the other cores.
        var results = new List<CategoryMetrics>();
        var buffers = new CategoryEvaluator.KeyBuffers();
        Task<EvaluationImage[]>? next = Task.Run(() => Load(0), cancellationToken);
        for (int c = 0; c < groups.Count; c++)
        {
            var images = next!.GetAwaiter().GetResult();
            int following = c + 1;
            next = following < groups.Count ? Task.Run(() => Load(following), cancellationToken) : null;
            results.Add(CategoryEvaluator.Evaluate(groups[c][0].Category, images, source, _options.MaxDegreeOfParallelism, _options.AuproFprLimit, buffers));
            progress?.Report(new EvaluationProgress(done, samples.Count, c + 1, groups.Count, groups[c][0].Category));
        }
        return new EvaluationReport(results, MetricValues.MeanOf(results.Select(r => r.Metrics).ToList()), source);
    }

    /// <summary>Evaluates images already in memory (e.g. from an inspection application), per category.</summary>
    public EvaluationReport Evaluate(IReadOnlyDictionary<string, IReadOnlyList<EvaluationImage>> categories, IouSource source)
    {
        ArgumentNullException.ThrowIfNull(categories);
        if (categories.Count == 0) throw new ArgumentException("no categories to evaluate", nameof(categories));
        var results = categories.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => CategoryEvaluator.Evaluate(kv.Key, kv.Value, source, _options.MaxDegreeOfParallelism, _options.AuproFprLimit))
            .ToList();
        return new EvaluationReport(results, MetricValues.MeanOf(results.Select(r => r.Metrics).ToList()), source);
    }
}
