using AgVas.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Tests.Modeling;

/// <summary>
/// <c>set_default_device</c> is process-wide: tests that switch it to meta must not run alongside any other test.
/// </summary>
[CollectionDefinition(nameof(DefaultDeviceCollection), DisableParallelization = true)]
public sealed class DefaultDeviceCollection;

/// <summary>Real-size layouts proven without weights: the paper and ov-0.5b vision sides built on the meta device.</summary>
[Collection(nameof(DefaultDeviceCollection))]
public sealed class MetaLayoutTests
{
    private static IReadOnlyList<string> MetaLayout(VisionConfig config)
    {
        var previous = get_default_device();
        set_default_device(new Device(DeviceType.META));
        try
        {
            using var side = VisionBuilder.Build(config);
            var list = side.named_parameters().Select(p => $"{p.name}: [{string.Join(", ", p.parameter.shape)}]").Order(StringComparer.Ordinal).ToList();
            Assert.All(side.parameters(), p => Assert.Equal(DeviceType.META, p.device_type));
            foreach (var (name, module) in side.Components)
            {
                var counted = VisionParameterCounts.Compute(config).Single(kv => kv.Key == name).Value.Total;
                Assert.Equal(counted, module.parameters().Sum(p => p.numel()));
            }
            return list;
        }
        finally
        {
            set_default_device(previous);
        }
    }

    [Theory]
    [InlineData("paper")]
    [InlineData("ov-0.5b")]
    public void RealSizeLayoutMatchesTheApprovedList(string preset)
    {
        var layout = MetaLayout(VisionPresets.Get(preset));
        var approved = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Fixtures", "Modeling", $"layout_{preset}.txt"));
        Assert.Equal(approved, layout);
    }
}
