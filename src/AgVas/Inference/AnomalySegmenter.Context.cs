using AgVas.Context;
using AgVas.Data;
using AgVas.Text;
using static TorchSharp.torch;

namespace AgVas.Inference;

public sealed partial class AnomalySegmenter
{
    /// <summary>
    /// Segments a batch of images with context (#16, docs/design.md §11), streaming one <see cref="BatchPrediction"/> per
    /// input image. Categories are processed in ordinal order and each category's images in the order of
    /// <see cref="ContextItem.Key"/>, so results do not depend on the input order. Per category:
    /// <list type="bullet">
    /// <item>with references in <see cref="ContextOptions.Normals"/>: few-shot, each image against the normal memory;</item>
    /// <item>else with <see cref="ContextOptions.Batch"/> and ≥ 2 readable images: mutual scoring, each image against at
    /// most M others (linear time, memory bounded by M + 1 images), the patches inside each image's own single-image mask
    /// left out of the others' look-alikes (<see cref="ContextOptions.ExcludeMarkedPatches"/>); results of the first M/2
    /// images come last;</item>
    /// <item>else: single-image scoring.</item>
    /// </list>
    /// Falling back reports a <see cref="ContextWarning"/> naming the category. The context score is fused with the
    /// AG-VAS map by <see cref="ContextOptions.Fusion"/>, and the mask, facts and answer follow the fused map. An unreadable
    /// image comes back with <see cref="BatchPrediction.Error"/> and is left out of its category's context.
    /// </summary>
    /// <param name="items">the images with their categories</param>
    /// <param name="options">the context modes</param>
    /// <param name="mode">the instruction type (default: <see cref="DefaultMode"/>)</param>
    /// <param name="warnings">receives the fallbacks</param>
    /// <param name="cancellationToken">stops between images</param>
    public IEnumerable<BatchPrediction> SegmentBatch(IEnumerable<ContextItem> items, ContextOptions options, InstructionType? mode = null,
        IProgress<ContextWarning>? warnings = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var categories = items.Select((item, index) => (Item: item, Index: index))
            .GroupBy(x => x.Item.Category, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.OrderBy(x => x.Item.Key, StringComparer.Ordinal).ThenBy(x => x.Item.ImagePath, StringComparer.Ordinal).ToList())
            .ToList();
        return categories.SelectMany(category => SegmentCategory(category, options, mode, warnings, cancellationToken));
    }

    private IEnumerable<BatchPrediction> SegmentCategory(List<(ContextItem Item, int Index)> category, ContextOptions options,
        InstructionType? mode, IProgress<ContextWarning>? warnings, CancellationToken cancellationToken)
    {
        string name = category[0].Item.Category;
        var readable = new List<(ContextItem Item, int Index)>(category.Count);
        if (options.UsesContext)
        {
            // Unreadable images are found first: the category's context is fixed before scoring starts.
            foreach (var x in category)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (TryLoad(x.Item, out _, out var error)) readable.Add(x);
                else yield return new BatchPrediction(x.Item, x.Index, null, null, ContextSource.Single, error);
            }
        }
        else readable = category;

        var memory = options.Normals?.For(name);
        var source = memory is not null ? ContextSource.FewShot
            : options.Batch && readable.Count >= 2 ? ContextSource.Batch
            : ContextSource.Single;
        if (options.Normals is not null && memory is null)
            warnings?.Report(new ContextWarning(name, source, source == ContextSource.Batch
                ? $"category '{name}' has no normal references: scored with batch context"
                : $"category '{name}' has no normal references: scored image by image, without context"));
        else if (memory is null && options.Batch && readable.Count == 1)
            warnings?.Report(new ContextWarning(name, ContextSource.Single, $"category '{name}' has one image: scored without batch context"));

        switch (source)
        {
            case ContextSource.FewShot:
                foreach (var x in readable)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (!TryLoad(x.Item, out var image, out var error))
                    {
                        yield return new BatchPrediction(x.Item, x.Index, null, null, source, error);
                        continue;
                    }
                    yield return Guarded(x, source, () =>
                    {
                        using var descriptors = PatchDescriptors.Compute(image, options.Normals!.Descriptors);
                        float[] context;
                        using (var scores = memory!.Score(descriptors)) context = ContextMap(descriptors, scores, options.Normals.Descriptors);
                        return Fused(x, image, Segment(image, mode), context, source, options);
                    });
                }
                break;
            case ContextSource.Batch:
                // Each image's single-image prediction is made when its descriptors are, so that its own mask can keep its
                // marked patches from serving as the others' look-alikes (ContextOptions.ExcludeMarkedPatches).
                var held = new Dictionary<int, (RgbImage Image, Prediction Single)>();
                PatchDescriptors Describe(int k)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var image = ImageIO.LoadRgb(readable[k].Item.ImagePath);
                    var single = Segment(image, mode);
                    held[k] = (image, single);
                    var descriptors = PatchDescriptors.Compute(image, options.Descriptors);
                    return options.ExcludeMarkedPatches ? descriptors.WithExcluded(single.Mask, options.Descriptors.ImageSize) : descriptors;
                }
                foreach (var (k, descriptors, scores) in MutualScoring.Stream(readable.Count, Describe, options.Mutual))
                {
                    var (image, single) = held[k];
                    held.Remove(k);
                    var context = ContextMap(descriptors, scores, options.Descriptors);
                    yield return Fused(readable[k], image, single, context, source, options);
                }
                break;
            default:
                foreach (var x in readable)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (!TryLoad(x.Item, out var image, out var error))
                        yield return new BatchPrediction(x.Item, x.Index, null, null, source, error);
                    else yield return Guarded(x, source, () => new BatchPrediction(x.Item, x.Index, Segment(image, mode), image, source, null));
                }
                break;
        }
    }

    /// <summary>Runs <paramref name="predict"/> for one image; any failure but a cancellation becomes that image's error
    /// (naming it), so one image never stops the batch.</summary>
    private static BatchPrediction Guarded((ContextItem Item, int Index) x, ContextSource source, Func<BatchPrediction> predict)
    {
        try
        {
            return predict();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var reason = e is AgVasException ? e.Message : $"{x.Item.ImagePath}: {e.GetType().Name}: {e.Message.Split('\n', 2)[0].Trim()}";
            return new BatchPrediction(x.Item, x.Index, null, null, source, reason.ReplaceLineEndings(" "));
        }
    }

    private static BatchPrediction Fused((ContextItem Item, int Index) x, RgbImage image, Prediction single, float[] context,
        ContextSource source, ContextOptions options) =>
        new(x.Item, x.Index, options.Fusion.Apply(single, context), image, source, null);

    /// <summary>The grid scores [h·w] as a map [H, W] at the image's size.</summary>
    private static float[] ContextMap(PatchDescriptors descriptors, Tensor scores, PatchDescriptorConfig config)
    {
        using var map = descriptors.ToImage(scores, config.ImageSize);                              // [H, W]
        return map.contiguous().data<float>().ToArray();
    }

    private static bool TryLoad(ContextItem item, out RgbImage image, out string? error)
    {
        try
        {
            image = ImageIO.LoadRgb(item.ImagePath);
            error = null;
            return true;
        }
        catch (Exception e) when (e is AgVasException or IOException or UnauthorizedAccessException)
        {
            image = null!;
            error = e.Message.ReplaceLineEndings(" ");
            return false;
        }
    }
}
