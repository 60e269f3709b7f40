using AgVas.Data;
using AgVas.Evaluation;
using AgVas.Inference;

namespace AgVas.Training;

/// <summary>
/// Validation during training: predicts the held-out samples with the model being trained (it must also be an
/// <see cref="ISegmentationModel"/>) into <c>&lt;run&gt;/validation/predictions</c> (overwritten each pass) and scores them with
/// <see cref="Evaluator"/> (docs/design.md §9). Returns the mean metrics under their report keys (<see cref="MetricValues.Keys"/>).
/// </summary>
public sealed class SegmentationValidator(IReadOnlyList<Sample> samples, string runDir) : ITrainingValidator
{
    public const string DirectoryName = "validation";

    public IReadOnlyDictionary<string, double?> Validate(ITrainableModel model, CancellationToken cancellationToken)
    {
        if (model is not ISegmentationModel segmentation)
            throw new InvalidOperationException($"{model.GetType().Name} cannot predict, so it cannot be validated");
        using var segmenter = new AnomalySegmenter(segmentation, ownsModel: false);
        var result = ModelTester.Run(segmenter, samples, Path.Combine(runDir, DirectoryName), cancellationToken: cancellationToken, writeReports: false);
        var mean = result.Report.Mean;
        var metrics = new Dictionary<string, double?>();
        for (int i = 0; i < MetricValues.Keys.Count; i++) metrics[MetricValues.Keys[i]] = mean.Values[i];
        metrics["failed_images"] = result.Predictions.Failures.Count;
        return metrics;
    }
}
