using System.Text.Json;
using AgVas.Inference;

namespace AgVas.Tests.Inference;

/// <summary>The hysteresis mask rule against scipy (tools/golden/inference_hysteresis.py), and its edge cases.</summary>
public class AnomalyMaskTests
{
    [Fact]
    public void MatchesHysteresisWithEightConnectedRegions()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "Inference", "hysteresis_golden.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        int cases = 0;
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            int h = c.GetProperty("h").GetInt32(), w = c.GetProperty("w").GetInt32();
            var map = c.GetProperty("map").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
            var want = c.GetProperty("mask").EnumerateArray().Select(v => v.GetInt32() == 1).ToArray();
            double low = c.GetProperty("low").GetDouble(), high = c.GetProperty("high").GetDouble();
            var got = AnomalyMask.FromMap(map, w, h, low, high);
            Assert.Equal(want, got.Data);
            cases++;
        }
        Assert.Equal(4, cases);
    }

    [Fact]
    public void DropsUnseededRegionsKeepsSeededOnesWhole()
    {
        // Two regions above 0.5: the left one peaks at 0.7, the right one at 0.95 (a diagonal step joins its pixels).
        float[] map =
        [
            0.6f, 0.7f, 0.1f, 0.0f, 0.6f,
            0.6f, 0.0f, 0.0f, 0.9f, 0.1f,
            0.0f, 0.0f, 0.0f, 0.1f, 0.95f,
        ];
        Assert.Equal(6, AnomalyMask.FromMap(map, 5, 3, 0.5, 0.5).CountPositive());        // the paper's rule
        var seeded = AnomalyMask.FromMap(map, 5, 3, 0.5, 0.8);
        Assert.Equal([false, false, false, false, true, false, false, false, true, false, false, false, false, false, true], seeded.Data);
        Assert.Equal(0, AnomalyMask.FromMap(map, 5, 3, 0.5, 0.96).CountPositive());          // no seed: empty
        Assert.Throws<ArgumentOutOfRangeException>(() => AnomalyMask.FromMap(map, 5, 3, 0.5, 0.4));
        Assert.Throws<ArgumentException>(() => AnomalyMask.FromMap(map, 4, 3, 0.5, 0.8));
    }
}
