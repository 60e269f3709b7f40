namespace AgVas.Text;

/// <summary>A tokenizer file that cannot be used: names the file and the problem.</summary>
public sealed class TokenizerException(string path, string problem)
    : AgVasException(path, problem);
