namespace AgVas.Checkpoints;

/// <summary>
/// A checkpoint that does not fit the model: every missing, unexpected and mis-shaped tensor, by its checkpoint name.
/// </summary>
public sealed class CheckpointMismatchException(string path, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> misshaped)
    : AgVasException(path, Describe(missing, unexpected, misshaped))
{
    public IReadOnlyList<string> Missing { get; } = missing;
    public IReadOnlyList<string> Unexpected { get; } = unexpected;
    /// <summary>Entries read "name: checkpoint [..] vs model [..]".</summary>
    public IReadOnlyList<string> Misshaped { get; } = misshaped;

    private static string Describe(IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> misshaped)
    {
        var parts = new List<string>();
        if (missing.Count > 0) parts.Add($"{missing.Count} missing: {string.Join(", ", missing)}");
        if (unexpected.Count > 0) parts.Add($"{unexpected.Count} unexpected: {string.Join(", ", unexpected)}");
        if (misshaped.Count > 0) parts.Add($"{misshaped.Count} mis-shaped: {string.Join("; ", misshaped)}");
        return $"checkpoint does not match the model ({string.Join("; ", parts)})";
    }
}
