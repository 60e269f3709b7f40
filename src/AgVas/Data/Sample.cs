namespace AgVas.Data;

/// <summary>One image of a dataset, as every reader returns it.</summary>
/// <param name="ImagePath">Absolute path of the image.</param>
/// <param name="RelativePath">Path relative to the dataset root, with '/' separators (prediction files mirror it).</param>
/// <param name="Category">The object or texture category; metrics are pooled per category.</param>
/// <param name="IsAnomalous">Label: true for an anomalous image.</param>
/// <param name="MaskPaths">Ground-truth mask files, OR-ed together; empty for a normal image.</param>
/// <param name="MaskRule">How the mask files are binarised.</param>
/// <param name="Defect">Defect type name (or "good"), when the dataset has one.</param>
/// <param name="Source">The dataset or source name, when known.</param>
/// <remarks>Equality compares <see cref="MaskPaths"/> element by element, not by list reference.</remarks>
public sealed record Sample(
    string ImagePath,
    string RelativePath,
    string Category,
    bool IsAnomalous,
    IReadOnlyList<string> MaskPaths,
    MaskRule MaskRule = MaskRule.GreaterThanZero,
    string? Defect = null,
    string? Source = null)
{
    public bool Equals(Sample? other) =>
        other is not null &&
        ImagePath == other.ImagePath && RelativePath == other.RelativePath && Category == other.Category &&
        IsAnomalous == other.IsAnomalous && MaskRule == other.MaskRule && Defect == other.Defect && Source == other.Source &&
        MaskPaths.SequenceEqual(other.MaskPaths);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(ImagePath);
        hash.Add(RelativePath);
        hash.Add(Category);
        hash.Add(IsAnomalous);
        hash.Add(MaskRule);
        hash.Add(Defect);
        hash.Add(Source);
        foreach (var mask in MaskPaths) hash.Add(mask);
        return hash.ToHashCode();
    }
}
