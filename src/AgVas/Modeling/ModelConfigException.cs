namespace AgVas.Modeling;

/// <summary>An invalid model configuration: names the offending field (e.g. <c>PixelEncoder.NumAttentionHeads</c>) and the problem.</summary>
public sealed class ModelConfigException(string field, string problem)
    : Exception($"{field}: {problem}")
{
    public string Field { get; } = field;
    public string Problem { get; } = problem;
}
