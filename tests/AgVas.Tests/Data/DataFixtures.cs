namespace AgVas.Tests.Data;

/// <summary>Paths of the committed data fixtures and of the optional real data set.</summary>
internal static class DataFixtures
{
    public static string Corpus => Path.Combine(AppContext.BaseDirectory, "Fixtures", "Data", "corpus");

    public static string CorpusFile(string name) => Path.Combine(Corpus, name);

    /// <summary>/work/shared/data/real (or AGVAS_REAL_DATA), null when absent.</summary>
    public static string? RealData
    {
        get
        {
            var dir = Environment.GetEnvironmentVariable("AGVAS_REAL_DATA") ?? "/work/shared/data/real";
            return File.Exists(Path.Combine(dir, "manifest.csv")) ? dir : null;
        }
    }
}

/// <summary>A temporary directory removed on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"agvas-test-{Guid.NewGuid():N}");

    public TempDir() => Directory.CreateDirectory(Path);

    public string File(string relative)
    {
        var full = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        return full;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}
