using System.Text.Json;
using AgVas.Evaluation;

namespace AgVas.Tests.Evaluation;

/// <summary>Bilinear resizing against PyTorch's F.interpolate(align_corners=False) (tools/golden/eval_resize.py).</summary>
public class BilinearResizeTests
{
    [Fact]
    public void MatchesTorchInterpolate()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "Evaluation", "resize_golden.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            int sh = c.GetProperty("src_h").GetInt32(), sw = c.GetProperty("src_w").GetInt32();
            int dh = c.GetProperty("dst_h").GetInt32(), dw = c.GetProperty("dst_w").GetInt32();
            var src = c.GetProperty("src").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
            var want = c.GetProperty("dst").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
            var got = BilinearResize.Resize(src, sw, sh, dw, dh);
            Assert.Equal(want.Length, got.Length);
            double maxDiff = want.Zip(got, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(maxDiff < 3e-7, $"{sh}x{sw} -> {dh}x{dw}: max difference {maxDiff}");
        }
    }

    [Fact]
    public void SameSizeIsIdentityAndConstantsStayConstant()
    {
        var src = Enumerable.Range(0, 12).Select(i => (float)i).ToArray();
        Assert.Equal(src, BilinearResize.Resize(src, 4, 3, 4, 3));
        var constant = BilinearResize.Resize(Enumerable.Repeat(0.25f, 6).ToArray(), 3, 2, 11, 7);
        Assert.All(constant, v => Assert.Equal(0.25f, v));
    }
}
