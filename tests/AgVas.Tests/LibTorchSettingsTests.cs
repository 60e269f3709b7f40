using AgVas.Modeling;

namespace AgVas.Tests;

public class LibTorchSettingsTests
{
    [Fact]
    public void BuildingAModelTurnsNnpackOff()
    {
        using var model = new AgVasModel(AgVasConfig.Preset("tiny"));
        // This project's libtorch (TorchSharp-cpu's) exports the switch; another build would report null.
        Assert.False(LibTorchSettings.NnpackEnabled());
        Assert.True(LibTorchSettings.DisableNnpack());
    }
}
