using System.Diagnostics;
using AgVas.Synthesis;

namespace AgVas.Bench;

/// <summary>Anomaly-Seg synthesis throughput: <c>synth [count=10000] [size=256] [threads=2] [out-dir|-]</c>.
/// Reports samples/s for generation alone and for generation + PNG writing (MVTec layout), and the peak working set
/// and managed heap sampled during the run. '-' as out-dir skips the writing pass.</summary>
internal static class SynthBench
{
    public static int Run(string[] args)
    {
        if (args.Length > 0 && args[0] == "parts") return Parts(args.Length > 1 ? int.Parse(args[1]) : 200);
        int count = args.Length > 0 ? int.Parse(args[0]) : 10_000;
        int size = args.Length > 1 ? int.Parse(args[1]) : 256;
        int threads = args.Length > 2 ? int.Parse(args[2]) : 2;
        string outDir = args.Length > 3 ? args[3] : Path.Combine(Path.GetTempPath(), $"agvas-synth-bench-{Environment.ProcessId}");
        var synth = new AnomalySynthesizer([new ProceduralSource()], new SynthesisOptions(Size: size, Seed: 7));
        Console.WriteLine($"synth: {count} samples of {size}x{size}, {threads} threads, {Environment.ProcessorCount} cores visible, load average {LoadAverage()}");
        using var sampler = new PeakSampler();
        synth.Generate(0); // warm-up (JIT)
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        long checksum = 0;
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
        {
            var s = synth.Generate(i);
            Interlocked.Add(ref checksum, s.Mask.CountPositive());
        });
        sw.Stop();
        Console.WriteLine($"generate only:      {count / sw.Elapsed.TotalSeconds,8:F0} samples/s ({sw.Elapsed.TotalSeconds:F1} s, mask pixels {checksum})");
        ReportCpu(count, cpu0, threads);
        Console.WriteLine($"  peak working set {sampler.PeakWorkingSetMiB:F0} MiB, peak managed heap {sampler.PeakHeapMiB:F0} MiB");
        if (outDir != "-")
        {
            sampler.Reset();
            cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            sw.Restart();
            AnomalySegWriter.Write(synth, count, outDir, threads);
            sw.Stop();
            Console.WriteLine($"generate + write:   {count / sw.Elapsed.TotalSeconds,8:F0} samples/s ({sw.Elapsed.TotalSeconds:F1} s) -> {outDir}");
            ReportCpu(count, cpu0, threads);
            Console.WriteLine($"  peak working set {sampler.PeakWorkingSetMiB:F0} MiB, peak managed heap {sampler.PeakHeapMiB:F0} MiB");
            if (args.Length <= 3) Directory.Delete(outDir, recursive: true);
        }
        Console.WriteLine($"load average after: {LoadAverage()} (other processes share the 2 cores)");
        return 0;
    }

    /// <summary>Single-thread cost of each texture kind and each anomaly kind (ms per call), to find hot spots.</summary>
    private static int Parts(int reps)
    {
        Console.WriteLine($"single-thread ms per call over {reps} calls, load average {LoadAverage()}");
        var rng = new SynthRandom(1);
        foreach (var kind in ProceduralTextures.AllKinds)
        {
            ProceduralTextures.Generate(kind, 256, ref rng);
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < reps; i++) ProceduralTextures.Generate(kind, 256, ref rng);
            Console.WriteLine($"  texture {kind,-14} {sw.Elapsed.TotalMilliseconds / reps,7:F2}");
        }
        var normal = ProceduralTextures.Generate(TextureKind.Noise, 256, ref rng);
        var sw2 = Stopwatch.StartNew();
        for (int i = 0; i < reps; i++) Foreground.Estimate(normal);
        Console.WriteLine($"  foreground estimate    {sw2.Elapsed.TotalMilliseconds / reps,7:F2}");
        foreach (var kind in AnomalyKinds.All)
        {
            AnomalySynthesizer.PaintDefect(normal, null, kind, DefectSize.Medium, false, 1);
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < reps; i++) AnomalySynthesizer.PaintDefect(normal, null, kind, (DefectSize)(i % 3), false, (ulong)i);
            Console.WriteLine($"  defect  {AnomalyKinds.Name(kind),-14} {sw.Elapsed.TotalMilliseconds / reps,7:F2}");
        }
        return 0;
    }

    /// <summary>CPU seconds this process used: under contention wall-clock rates understate what the code does, so also
    /// report samples per CPU-second and the rate that implies for <paramref name="threads"/> uncontended cores.</summary>
    private static void ReportCpu(int count, TimeSpan cpu0, int threads)
    {
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
        Console.WriteLine($"  CPU {cpu:F1} s: {count / cpu:F0} samples per CPU-second, i.e. {threads * count / cpu:F0} samples/s on {threads} free cores");
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>Samples the process's working set and GC heap every 20 ms.</summary>
    private sealed class PeakSampler : IDisposable
    {
        private readonly Timer _timer;
        private long _ws, _heap;

        public PeakSampler() => _timer = new Timer(_ => Sample(), null, 0, 20);

        private void Sample()
        {
            using var p = Process.GetCurrentProcess();
            InterlockedMax(ref _ws, p.WorkingSet64);
            InterlockedMax(ref _heap, GC.GetTotalMemory(false));
        }

        private static void InterlockedMax(ref long target, long value)
        {
            long cur;
            while (value > (cur = Interlocked.Read(ref target)) && Interlocked.CompareExchange(ref target, value, cur) != cur) { }
        }

        public void Reset()
        {
            Interlocked.Exchange(ref _ws, 0);
            Interlocked.Exchange(ref _heap, 0);
        }

        public double PeakWorkingSetMiB { get { Sample(); return _ws / 1048576.0; } }
        public double PeakHeapMiB { get { Sample(); return _heap / 1048576.0; } }

        public void Dispose() => _timer.Dispose();
    }
}
