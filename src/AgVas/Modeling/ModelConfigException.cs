namespace AgVas.Modeling;

/// <summary>An invalid model configuration: names the offending field (e.g. <c>PixelEncoder.NumAttentionHeads</c>) and the problem.</summary>
public sealed class ModelConfigException(string field, string problem)
    : AgVasException(field, problem)
{
    /// <summary>The field at fault (the <see cref="AgVasException.File"/> of a configuration error).</summary>
    public string Field => File;
}
