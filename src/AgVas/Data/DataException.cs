namespace AgVas.Data;

/// <summary>Bad input data: the message names the file and the problem.</summary>
public sealed class DataException(string path, string problem, Exception? inner = null)
    : AgVasException(path, problem, inner);
