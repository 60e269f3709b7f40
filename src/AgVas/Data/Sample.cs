namespace AgVas.Data;

/// <summary>One image of a dataset, as every reader returns it.</summary>
/// <param name="ImagePath">Absolute path of the image.</param>
/// <param name="RelativePath">Path relative to the dataset root (prediction files mirror it).</param>
/// <param name="Category">The object or texture category; metrics are pooled per category.</param>
/// <param name="IsAnomalous">Label: true for an anomalous image.</param>
/// <param name="MaskPaths">Ground-truth mask files, OR-ed together; empty for a normal image.</param>
/// <param name="MaskRule">How the mask files are binarised.</param>
/// <param name="Defect">Defect type name (or "good"), when the dataset has one.</param>
/// <param name="Source">The dataset or source name, when known.</param>
public sealed record Sample(
    string ImagePath,
    string RelativePath,
    string Category,
    bool IsAnomalous,
    IReadOnlyList<string> MaskPaths,
    MaskRule MaskRule = MaskRule.GreaterThanZero,
    string? Defect = null,
    string? Source = null);
