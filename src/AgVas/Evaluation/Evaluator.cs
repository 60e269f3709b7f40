using System.Runtime.ExceptionServices;
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
/// The evaluation protocol of AGVAS.md §4: metrics per category on the pooled pixels of all its test images
/// (normal images included), then the unweighted mean over categories, skipping categories where a metric is
/// undefined. Categories are evaluated one after another (ordered by name); within a category images are loaded and
/// labelled in parallel, so memory holds one category at a time (about 30 bytes per pixel).
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
        var groups = samples.GroupBy(s => s.Category).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = _options.MaxDegreeOfParallelism, CancellationToken = cancellationToken };
        int done = 0;
        var results = new List<CategoryMetrics>();
        for (int c = 0; c < groups.Count; c++)
        {
            var group = groups[c].ToList();
            var images = new EvaluationImage[group.Count];
            var errors = new Exception?[group.Count];
            int categoriesDone = c;
            string category = groups[c].Key;
            Parallel.For(0, group.Count, parallel, (i, state) =>
            {
                try
                {
                    images[i] = predictions.Load(group[i], source);
                }
                catch (Exception e) when (e is DataException or IOException or UnauthorizedAccessException)
                {
                    errors[i] = e;
                    state.Stop();
                    return;
                }
                progress?.Report(new EvaluationProgress(Interlocked.Increment(ref done), samples.Count, categoriesDone, groups.Count, category));
            });
            // Report the lowest-indexed failure found (loading stops at the first one, so later images may go unchecked).
            if (errors.FirstOrDefault(e => e is not null) is { } error) ExceptionDispatchInfo.Throw(error);
            results.Add(CategoryEvaluator.Evaluate(category, images, source, _options.MaxDegreeOfParallelism, _options.AuproFprLimit));
            progress?.Report(new EvaluationProgress(done, samples.Count, c + 1, groups.Count, category));
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
