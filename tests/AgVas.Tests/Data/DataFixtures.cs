namespace AgVas.Tests.Data;

/// <summary>Paths of the committed data fixtures.</summary>
internal static class DataFixtures
{
    public static string Corpus => Path.Combine(AppContext.BaseDirectory, "Fixtures", "Data", "corpus");

    public static string CorpusFile(string name) => Path.Combine(Corpus, name);
}
