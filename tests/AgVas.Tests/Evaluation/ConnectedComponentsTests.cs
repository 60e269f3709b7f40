using AgVas.Evaluation;
using CsCheck;

namespace AgVas.Tests.Evaluation;

public class ConnectedComponentsTests
{
    private static bool[] Parse(params string[] rows) => rows.SelectMany(r => r.Select(c => c == '#')).ToArray();

    [Fact]
    public void DiagonalNeighboursAreConnectedAndIdsFollowRasterOrder()
    {
        var mask = Parse(
            "#....#",
            ".#..#.",
            "..#...",
            "......",
            "##..##");
        var labels = new int[mask.Length];
        Assert.Equal(4, ConnectedComponents.Label8(mask, 6, 5, labels));
        Assert.Equal(1, labels[0]);
        Assert.Equal(2, labels[5]);
        Assert.Equal(1, labels[2 * 6 + 2]);
        Assert.Equal(3, labels[4 * 6]);
        Assert.Equal(4, labels[4 * 6 + 5]);
    }

    [Fact]
    public void UShapeMergesIntoOneRegion()
    {
        var mask = Parse(
            "#.#.#",
            "#.#.#",
            "#####");
        var labels = new int[mask.Length];
        Assert.Equal(1, ConnectedComponents.Label8(mask, 5, 3, labels));
        Assert.All(labels.Where((_, i) => mask[i]), l => Assert.Equal(1, l));
    }

    [Fact]
    public void MatchesFloodFill()
    {
        Gen.Select(Gen.Int[1, 12], Gen.Int[1, 12], (w, h) => (w, h))
            .SelectMany(t => Gen.Int[0, 2].Array[t.w * t.h].Select(a => (t.w, t.h, Mask: a.Select(v => v == 0).ToArray())))
            .Sample(t =>
            {
                var labels = new int[t.Mask.Length];
                int count = ConnectedComponents.Label8(t.Mask, t.w, t.h, labels);
                var regions = NaiveMetrics.FloodFill(t.Mask, t.w, t.h);
                Assert.Equal(regions.Count, count);
                foreach (var region in regions)
                    Assert.Single(region.Select(p => labels[p]).Distinct());
                Assert.Equal(count, regions.Select(r => labels[r[0]]).Distinct().Count());
                Assert.All(labels.Where((_, i) => !t.Mask[i]), l => Assert.Equal(0, l));
            }, iter: 500);
    }
}
