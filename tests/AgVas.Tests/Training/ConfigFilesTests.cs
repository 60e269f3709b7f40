using AgVas.Training;

namespace AgVas.Tests.Training;

public class ConfigFilesTests
{
    /// <summary>Every config shipped under configs/ binds and validates.</summary>
    [Fact]
    public void ShippedConfigsAreValid()
    {
        var configs = Directory.GetFiles(Path.Combine(RepoRoot(), "configs"), "*.yaml");
        Assert.Contains(configs, c => Path.GetFileName(c) == "smoke.yaml");
        foreach (var path in configs) TrainingConfigLoader.Load(path);
        var smoke = TrainingConfigLoader.Load(Path.Combine(RepoRoot(), "configs", "smoke.yaml"));
        Assert.Equal("tiny", smoke.Model.Preset);
        Assert.All(smoke.Data.Sources, s => Assert.NotNull(s.Synth));
    }

    internal static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "AgVas.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("repository root (AgVas.sln) not found above " + AppContext.BaseDirectory);
    }
}
