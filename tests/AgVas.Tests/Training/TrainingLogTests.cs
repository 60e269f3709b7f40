using AgVas.Cli.Commands;
using AgVas.Training;

namespace AgVas.Tests.Training;

public sealed class TrainingLogTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("agvas-log-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static StepRecord Step(int s) => new(s, 1e-3, new LossParts(s, 0.5, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7), 1.5, 2.5, 0.01, s * 2.0);

    [Fact]
    public void RoundTripsAndResumeDropsLaterAndCutLines()
    {
        using (var log = TrainingLog.Open(dir, 0))
        {
            for (int s = 1; s <= 5; s++) log.Write(Step(s));
            log.WriteValidation(4, new Dictionary<string, double?> { ["ap"] = 0.5, ["iou_nor"] = null });
        }
        var path = Path.Combine(dir, TrainingLog.FileName);
        Assert.Equal(6, File.ReadAllLines(path).Length);
        Assert.Equal(Step(3), TrainingLog.ReadSteps(path)[2]);
        File.AppendAllText(path, "{\"step\": 6, \"lr\":"); // a line cut by a kill

        using (var log = TrainingLog.Open(dir, keepThroughStep: 4)) log.Write(Step(5));
        var lines = File.ReadAllLines(path);
        Assert.Equal(6, lines.Length);
        Assert.Contains("\"validation\":{\"ap\":0.5,\"iou_nor\":null}", lines[4]);
        Assert.Equal([1, 2, 3, 4, 5], TrainingLog.ReadSteps(path).Select(s => s.Step));

        using (TrainingLog.Open(dir, 0)) { }
        Assert.Equal("", File.ReadAllText(path));
    }

    /// <summary>Logs written before the hard-pixel term existed have no hard_bce: they read as 0, their loss had none.</summary>
    [Fact]
    public void ReadsLogsWithoutHardBceAsZero()
    {
        var path = Path.Combine(dir, TrainingLog.FileName);
        File.WriteAllText(path, "{\"step\":1,\"lr\":0.001,\"loss\":3,\"text\":0.5,\"bce_nor\":0.1,\"bce_ano\":0.2,\"bce_seg\":0.3," +
            "\"dice_nor\":0.4,\"dice_ano\":0.5,\"dice_seg\":0.6,\"grad_norm\":1.5,\"examples_per_s\":2.5,\"mfu\":0.01,\"elapsed_s\":2}\n");
        var step = Assert.Single(TrainingLog.ReadSteps(path));
        Assert.Equal(0.0, step.Loss.HardBce);
        Assert.Equal(0.6, step.Loss.DiceSeg);
    }

    /// <summary>A non-finite value (a NaN loss part, an infinite rate) is written as null and reads back as NaN; the
    /// log of such a run still reads and plots (it used to throw at the end of training).</summary>
    [Fact]
    public void NonFiniteValuesRoundTripAsNaNAndStillPlot()
    {
        var step = Step(1) with { Loss = Step(1).Loss with { DiceNor = double.NaN }, ExamplesPerSecond = double.PositiveInfinity };
        using (var log = TrainingLog.Open(dir, 0))
        {
            log.Write(step);
            log.Write(Step(2));
        }
        var path = Path.Combine(dir, TrainingLog.FileName);
        Assert.Contains("\"dice_nor\":null", File.ReadAllLines(path)[0]);
        var read = TrainingLog.ReadSteps(path);
        Assert.True(double.IsNaN(read[0].Loss.DiceNor));
        Assert.True(double.IsNaN(read[0].ExamplesPerSecond));
        Assert.Equal(Step(2), read[1]);
        LossPlot.Save(read, Path.Combine(dir, LossPlot.FileName));
        Assert.True(new FileInfo(Path.Combine(dir, LossPlot.FileName)).Length > 0);
    }

    [Fact]
    public void PlotsTheLossCurvesToPng()
    {
        var png = Path.Combine(dir, LossPlot.FileName);
        LossPlot.Save(Enumerable.Range(1, 20).Select(Step).ToList(), png);
        var bytes = File.ReadAllBytes(png);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        var image = AgVas.Data.ImageIO.LoadRgb(png);
        Assert.Equal((900, 500), (image.Width, image.Height));
    }

    [Fact]
    public void ProgressLineShowsEveryLossPart()
    {
        var line = TrainCommand.Describe(new TrainingProgress(3, 10, Step(3), TimeSpan.FromSeconds(5)));
        Assert.Equal("step 3/10 loss 3.000 | txt 0.500 bce 0.100/0.200/0.300 dice 0.400/0.500/0.600 (nor/ano/seg) hard 0.700 | 2.5 ex/s MFU 1.0%", line.Replace("1.0 %", "1.0%"));
    }
}
