using System.CommandLine;

namespace AgVas.Tests;

/// <summary>A fresh directory under the system temp folder, removed on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("agvas-test-").FullName;

    /// <summary>A path inside the directory; its parent folders are created.</summary>
    public string File(string relative)
    {
        var full = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        return full;
    }

    public string this[string relative] => File(relative);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}

/// <summary>The repository's root (the folder holding AgVas.sln above the test binaries).</summary>
internal static class Repository
{
    /// <summary>The root, or null when the tests run outside a checkout.</summary>
    public static string? Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (System.IO.File.Exists(System.IO.Path.Combine(dir.FullName, "AgVas.sln"))) return dir.FullName;
        return null;
    }

    public static string Root { get; } = Find() ?? throw new InvalidOperationException($"no AgVas.sln above {AppContext.BaseDirectory}");

    public static string Path(string relative) => System.IO.Path.Combine(Root, relative);
}

/// <summary>Where the optional shared real data set is: AGVAS_REAL_DATA, else <c>../shared/data/real</c> beside the
/// repository (as on the developers' machines and CI), else null and the tests that need it skip.</summary>
internal static class RealData
{
    public const string SkipReason = "the shared real data (../shared/data/real beside the repository, or AGVAS_REAL_DATA) is absent";

    public static string? Root { get; } = Find();

    public static string? File(string name) => Root is null ? null : System.IO.Path.Combine(Root, name);

    private static string? Find()
    {
        var fromEnv = Environment.GetEnvironmentVariable("AGVAS_REAL_DATA");
        if (!string.IsNullOrEmpty(fromEnv)) return IsRealData(fromEnv) ? fromEnv : null;
        if (Repository.Find() is not { } repository) return null;
        var candidate = System.IO.Path.GetFullPath(System.IO.Path.Combine(repository, "..", "shared", "data", "real"));
        return IsRealData(candidate) ? candidate : null;
    }

    private static bool IsRealData(string dir) => System.IO.File.Exists(System.IO.Path.Combine(dir, "manifest.csv"));
}

/// <summary>Invokes a CLI command in-process with the console captured (tests that use it must not run in parallel
/// with others that write to the console: Console.SetOut is process-wide).</summary>
internal static class ConsoleCapture
{
    public static (int Code, string Out, string Err) Invoke(Command command, params string[] args)
    {
        var (stdout, stderr) = (Console.Out, Console.Error);
        using var o = new StringWriter();
        using var e = new StringWriter();
        Console.SetOut(o);
        Console.SetError(e);
        try
        {
            int code = command.Parse(args).Invoke();
            return (code, o.ToString(), e.ToString());
        }
        finally
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
        }
    }
}
