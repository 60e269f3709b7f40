namespace AgVas.Data;

/// <summary>Bad input data: the message names the file and the problem.</summary>
public sealed class DataException(string path, string problem, Exception? inner = null)
    : Exception($"{path}: {problem}", inner)
{
    public string Path { get; } = path;
    public string Problem { get; } = problem;
}
