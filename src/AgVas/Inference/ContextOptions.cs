using AgVas.Context;
using AgVas.Data;

namespace AgVas.Inference;

/// <summary>
/// Context modes of <see cref="AnomalySegmenter.SegmentBatch"/> (#16, docs/design.md §11). With neither
/// <see cref="Batch"/> nor <see cref="Normals"/>, every image is segmented alone, exactly as
/// <see cref="AnomalySegmenter.Segment(RgbImage, AgVas.Text.InstructionType?)"/>.
/// </summary>
public sealed record ContextOptions
{
    /// <summary>Patch descriptors chosen on dev: the ResNet-18 at 256 px (384 px gave batch AP 27.6 against 25.3 at M = 16
    /// and few-shot 32.8 against 31.5, at 2.25× the cost per pair; docs/design.md §11).</summary>
    public static PatchDescriptorConfig DefaultDescriptors { get; } = new(ImageSize: 256);

    /// <summary>Batch context: each image is scored against at most <see cref="MutualScoringConfig.MaxReferences"/>
    /// others of its category (<see cref="MutualScoring"/>). A category of one image is segmented alone, with a warning.</summary>
    public bool Batch { get; init; }

    /// <summary>Few-shot context: the normal-patch memories. A category without references falls back to batch context
    /// when <see cref="Batch"/>, else to single-image scoring, with a warning.</summary>
    public ReferenceSet? Normals { get; init; }

    /// <summary>How batch context describes patches (few-shot uses <see cref="ReferenceSet.Descriptors"/>).</summary>
    public PatchDescriptorConfig Descriptors { get; init; } = DefaultDescriptors;

    /// <summary>Batch context's bound M and aggregation: M = 64, chosen on dev (context alone, mean AP 33.2 against 29.3 for
    /// M = 32, 25.3 for M = 16 and 34.1 with all 104 others of the largest category, at twice M = 32's cost;
    /// docs/design.md §11).</summary>
    public MutualScoringConfig Mutual { get; init; } = new(MaxReferences: 64);

    /// <summary>Batch context: the patches inside an image's own single-image AG-VAS mask are no look-alike candidates
    /// for the other images (<see cref="PatchDescriptors.WithExcluded"/>), so a defect that recurs across the batch (a
    /// lesion in every scan) is not excused by the others' defects. Chosen on dev (session 16; docs/design.md §11):
    /// fused dev.csv AP / AUPRO 57.5 / 79.3 → 60.2 / 79.6 (held-out hazelnut AP 73.6 → 81.6; context alone 35.8 → 47.2),
    /// synthetic tissue with a lesion in every image 78.6 / 80.5 → 82.4 / 84.1.</summary>
    public bool ExcludeMarkedPatches { get; init; } = true;

    /// <summary>How the context score joins the AG-VAS map and where the mask is drawn.</summary>
    public ContextFusionConfig Fusion { get; init; } = ContextFusionConfig.Default;

    /// <summary>True when some context mode is on.</summary>
    public bool UsesContext => Batch || Normals is not null;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        Descriptors.Validate();
        Mutual.Validate();
        Fusion.Validate();
    }
}

/// <summary>One image of a batch: the file, its category (images are scored with others of the same category) and its
/// name, which orders the category (ordinal; default the path) so that results do not depend on the input order.</summary>
/// <param name="ImagePath">the image file</param>
/// <param name="Category">the category it is scored with</param>
/// <param name="Name">the order key within the category, e.g. the dataset-relative path (null: the path)</param>
public sealed record ContextItem(string ImagePath, string Category, string? Name = null)
{
    /// <summary>The order key within the category.</summary>
    public string Key => Name ?? ImagePath;
}

/// <summary>How an image of a batch was scored.</summary>
public enum ContextSource
{
    /// <summary>Alone: the AG-VAS prediction as <see cref="AnomalySegmenter.Segment(RgbImage, AgVas.Text.InstructionType?)"/> returns it.</summary>
    Single,
    /// <summary>With the other images of its category (mutual scoring), fused with the AG-VAS map.</summary>
    Batch,
    /// <summary>Against its category's normal references, fused with the AG-VAS map.</summary>
    FewShot,
}

/// <summary>One result of <see cref="AnomalySegmenter.SegmentBatch"/>: the prediction, or why the image failed.</summary>
/// <param name="Item">the input item</param>
/// <param name="Index">its position in the input sequence</param>
/// <param name="Prediction">the prediction; null when the image could not be read</param>
/// <param name="Image">the decoded image (for overlays); null when it could not be read</param>
/// <param name="Source">how the image was scored</param>
/// <param name="Error">why the image failed ("file: problem"); null otherwise</param>
public sealed record BatchPrediction(ContextItem Item, int Index, Prediction? Prediction, RgbImage? Image, ContextSource Source, string? Error);

/// <summary>A category that fell back to a weaker context mode, and why.</summary>
/// <param name="Category">the category</param>
/// <param name="FallbackTo">how its images are scored instead</param>
/// <param name="Message">what happened, naming the category</param>
public sealed record ContextWarning(string Category, ContextSource FallbackTo, string Message);
