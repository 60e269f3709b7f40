using ScottPlot;

namespace AgVas.Training;

/// <summary>Plots the loss curves of a run (total, text, BCE and Dice summed over the anchors) to a PNG with ScottPlot.
/// SkiaSharp's dependency-free native build cannot ask fontconfig for fonts, so a sans-serif TTF is looked up in the
/// usual font folders and registered with ScottPlot; without one the curves are drawn without text.</summary>
public static class LossPlot
{
    public const string FileName = "loss.png";
    private const string FontName = "AgVasPlotSans";

    private static readonly string[] FontFiles = ["DejaVuSans.ttf", "LiberationSans-Regular.ttf", "NotoSans-Regular.ttf", "Lato-Regular.ttf", "Arial.ttf", "arial.ttf", "Helvetica.ttc"];
    private static readonly string[] FontFolders = ["/usr/share/fonts", "/usr/local/share/fonts", "/System/Library/Fonts", "/Library/Fonts",
        Environment.GetFolderPath(Environment.SpecialFolder.Fonts), Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".fonts")];

    private static readonly Lazy<bool> FontRegistered = new(() =>
    {
        foreach (var folder in FontFolders.Where(f => f.Length > 0 && Directory.Exists(f)))
            foreach (var name in FontFiles)
            {
                var file = Directory.EnumerateFiles(folder, name, new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true }).FirstOrDefault();
                if (file is null) continue;
                Fonts.AddFontFile(FontName, file);
                return true;
            }
        return false;
    });

    public static void Save(IReadOnlyList<StepRecord> steps, string path, int width = 900, int height = 500)
    {
        if (steps.Count == 0) throw new ArgumentException("no steps to plot", nameof(steps));
        var plot = new Plot();
        if (FontRegistered.Value) plot.Font.Set(FontName);
        double[] x = steps.Select(s => (double)s.Step).ToArray();
        void Line(string label, Func<LossParts, double> pick)
        {
            var line = plot.Add.ScatterLine(x, steps.Select(s => pick(s.Loss)).ToArray());
            line.LegendText = label;
        }
        Line("total", l => l.Total);
        Line("text", l => l.Text);
        Line("BCE (Σ anchors)", l => l.BceNor + l.BceAno + l.BceSeg);
        Line("Dice (Σ anchors)", l => l.DiceNor + l.DiceAno + l.DiceSeg);
        plot.Axes.Bottom.Label.Text = "step";
        plot.Axes.Left.Label.Text = "loss";
        plot.Title("AG-VAS training loss");
        plot.ShowLegend();
        var bytes = plot.GetImageBytes(width, height, ImageFormat.Png);
        AtomicFile.WriteAllBytes(path, bytes);
    }
}
