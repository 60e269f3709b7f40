namespace AgVas.Data;

/// <summary>The dataset layouts <see cref="Datasets.Load"/> reads (docs/design.md §10).</summary>
public enum DatasetFormat
{
    /// <summary>MVTec AD: <c>&lt;category&gt;/test/{good,&lt;defect&gt;}/</c>, masks <c>&lt;category&gt;/ground_truth/&lt;defect&gt;/&lt;stem&gt;_mask.png</c>.</summary>
    MVTec,
    /// <summary>VisA: <c>split_csv/1cls.csv</c> with columns <c>object,split,label,image,mask</c>.</summary>
    VisA,
    /// <summary>AnomalyCLIP / AdaCLIP / Bayes-PFL <c>meta.json</c>.</summary>
    MetaJson,
    /// <summary>A folder of images (recursive), all taken as normal and unlabelled: for prediction.</summary>
    ImageFolder,
    /// <summary>A CSV manifest with columns <c>source,category,label,image,mask</c> (optional <c>defect</c>, <c>mask_rule</c>).</summary>
    Manifest,
}

/// <summary>Reader options.</summary>
public sealed record DatasetOptions
{
    /// <summary>The split read from VisA's 1cls.csv and from meta.json (evaluation reads <c>test</c>).</summary>
    public string Split { get; init; } = "test";

    /// <summary>MVTec: also read <c>train/good</c> as normal images.</summary>
    public bool IncludeTrainGood { get; init; }
}
