using ScottPlot;

namespace AgVas.Training;

/// <summary>Plots the loss curves of a run (total, text, BCE and Dice summed over the anchors) to a PNG with ScottPlot.</summary>
public static class LossPlot
{
    public const string FileName = "loss.png";

    public static void Save(IReadOnlyList<StepRecord> steps, string path, int width = 900, int height = 500)
    {
        if (steps.Count == 0) throw new ArgumentException("no steps to plot", nameof(steps));
        var plot = new Plot();
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
