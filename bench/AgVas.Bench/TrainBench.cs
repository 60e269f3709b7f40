using System.Diagnostics;
using AgVas.Training;

namespace AgVas.Bench;

/// <summary>
/// Training throughput of a preset on synthesized Anomaly-Seg: examples/s, MFU against the fp32 matmul rate, and peak
/// memory. Args: [preset=tiny] [steps=10] [batch=2] [image size of the synthesized data=128].
/// Measured here (2 cores shared with other jobs, Release): tiny, batch 2: 7.1 examples/s (0.28 s/step),
/// 3.96 GFLOP per training example, MFU 19.8 % of 143 GFLOP/s fp32 matmul, peak working set 476 MiB.
/// </summary>
internal static class TrainBench
{
    public static int Run(string[] args)
    {
        string preset = args.Length > 0 ? args[0] : "tiny";
        int steps = args.Length > 1 ? int.Parse(args[1]) : 10;
        int batch = args.Length > 2 ? int.Parse(args[2]) : 2;
        int size = args.Length > 3 ? int.Parse(args[3]) : 128;
        var dir = Directory.CreateTempSubdirectory("agvas-trainbench-").FullName;
        try
        {
            var config = new TrainingConfig
            {
                Model = new ModelSection { Preset = preset },
                Data = new DataSection
                {
                    Sources = [new DataSourceConfig { Synth = new SynthSourceConfig { Count = 32, Size = size } },
                               new DataSourceConfig { Pool = "instruct", Synth = new SynthSourceConfig { Count = 32, Size = size, SeedOffset = 1 } }],
                },
                Optim = new OptimSection { BatchSize = batch, WarmupSteps = 1 },
                Output = new OutputSection { CheckpointEvery = 0 },
                Steps = steps + 1,
            };
            var data = TrainingSetup.Mixture(config, dir, dir);
            using var model = TrainingSetup.CreateModel(config, dir);
            double peak = MatmulRate.Measure(1024, 6);
            var records = new List<StepRecord>();
            var sw = Stopwatch.StartNew();
            new Trainer(config, model, data, Path.Combine(dir, "run"), options: new TrainerOptions { PeakFlops = peak, Plot = false })
                .Run(resume: false, new Sync(p => records.Add(p.Record)));
            var measured = records.Skip(1).ToList(); // the first step warms up allocators and kernels
            double rate = measured.Average(r => r.ExamplesPerSecond);
            Console.WriteLine($"preset {preset}, batch {batch}, {steps} measured steps, images {size}px, threads {TorchSharp.torch.get_num_threads()}");
            Console.WriteLine($"training: {rate:F2} examples/s ({1 / rate * batch:F2} s/step), MFU {measured.Average(r => r.Mfu):P2} of {peak / 1e9:F1} GFLOP/s fp32 matmul");
            Console.WriteLine($"model FLOPs per training example: {model.TrainingFlopsPerExample / 1e9:F2} GFLOP; loss {measured[0].Loss.Total:F3} → {measured[^1].Loss.Total:F3}");
            Console.WriteLine($"peak working set: {Process.GetCurrentProcess().PeakWorkingSet64 / (1 << 20)} MiB; total {sw.Elapsed.TotalSeconds:F1} s incl. checkpoint and final save");
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private sealed class Sync(Action<TrainingProgress> action) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => action(value);
    }
}
