using AgVas.Training;

namespace AgVas.Tests.Training;

public class ConfigFilesTests
{
    /// <summary>Every config shipped under configs/ binds and validates.</summary>
    [Fact]
    public void ShippedConfigsAreValid()
    {
        var configs = Directory.GetFiles(Path.Combine(Repository.Root, "configs"), "*.yaml");
        Assert.Contains(configs, c => Path.GetFileName(c) == "smoke.yaml");
        foreach (var path in configs) TrainingConfigLoader.Load(path);
        var smoke = TrainingConfigLoader.Load(Path.Combine(Repository.Root, "configs", "smoke.yaml"));
        Assert.Equal("tiny", smoke.Model.Preset);
        Assert.All(smoke.Data.Sources, s => Assert.NotNull(s.Synth));
    }
}
