namespace AgVas;

/// <summary>The base of the library's exceptions for bad input: <see cref="File"/> names where the problem is (a file or
/// directory; for a model configuration, the field; for a diverged training run, the step) and <see cref="Problem"/>
/// says what is wrong, on one line. The message is "File: Problem", so a caller can catch this one type and print it.</summary>
public abstract class AgVasException(string file, string problem, Exception? inner = null)
    : Exception($"{file}: {problem}", inner)
{
    public string File { get; } = file;
    public string Problem { get; } = problem;
}
