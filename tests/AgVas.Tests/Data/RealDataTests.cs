using System.Globalization;
using AgVas.Data;

namespace AgVas.Tests.Data;

/// <summary>The shared real set (../shared/data/real): every mask reproduces the collector's foreground fraction, every image decodes.</summary>
public class RealDataTests
{
    [SkippableFact]
    public void EveryMaskOfDevAndTestReproducesItsForegroundFraction()
    {
        var root = RealData.Root;
        Skip.If(root is null, RealData.SkipReason);
        var mismatches = new List<string>();
        int checkedMasks = 0, rowsWithMasks = 0;
        foreach (var split in new[] { "dev.csv", "test.csv" })
        {
            var csvPath = Path.Combine(root, split);
            var samples = Datasets.Load(csvPath);
            var table = Csv.Read(csvPath);
            int frac = table.Column("mask_fg_frac");
            rowsWithMasks += table.Rows.Count(r => r.Fields[table.Column("mask")].Length > 0);
            Assert.Equal(table.Rows.Count, samples.Count);
            for (int i = 0; i < samples.Count; i++)
            {
                var s = samples[i];
                if (s.MaskPaths.Count == 0) continue;
                var size = ImageIO.ReadSize(s.ImagePath);
                var mask = ImageIO.LoadMasks(s.MaskPaths, s.MaskRule, size.Width, size.Height, s.ImagePath);
                double expected = double.Parse(table.Rows[i].Fields[frac], CultureInfo.InvariantCulture);
                double actual = (double)mask.CountPositive() / mask.Data.Length;
                if (Math.Abs(actual - expected) > 1e-5)
                    mismatches.Add($"{string.Join(";", s.MaskPaths)} ({s.MaskRule}): {actual:F6} vs {expected}");
                checkedMasks++;
            }
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} masks differ:\n" + string.Join("\n", mismatches));
        Assert.Equal(rowsWithMasks, checkedMasks);
        Assert.True(checkedMasks >= 149, $"only {checkedMasks} masks: 149 anomalous images have masks");
    }

    [SkippableFact]
    public void EveryRealImageDecodes()
    {
        var root = RealData.Root;
        Skip.If(root is null, RealData.SkipReason);
        var samples = Datasets.Load(Path.Combine(root, "manifest.csv"));
        Assert.Equal(213, samples.Count);
        Assert.Equal(149, samples.Count(s => s.IsAnomalous));
        foreach (var s in samples)
        {
            var image = ImageIO.LoadRgb(s.ImagePath);
            Assert.Equal(ImageIO.ReadSize(s.ImagePath), new ImageSize(image.Width, image.Height));
        }
        Datasets.Validate(samples);
    }
}
