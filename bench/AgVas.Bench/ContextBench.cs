using System.Diagnostics;
using AgVas.Context;
using AgVas.Data;
using AgVas.Inference;

namespace AgVas.Bench;

/// <summary>
/// Batch context (#16) at scale: N synthetic images of one category (a textured surface, one in ten with a dark blob),
/// generated on the fly, scored by mutual scoring (M = <see cref="MutualScoringConfig.MaxReferences"/>) and fused into
/// [H, W] maps, as <see cref="AnomalySegmenter.SegmentBatch"/> does without the AG-VAS model. Reports time per image and
/// the process's peak RSS after each N: linear time means a flat time per image, bounded memory a flat peak.
/// Defaults are the shipped ones (<see cref="ContextOptions"/>: descriptors at 256 px, M = 64).
/// CPU time per image is reported beside wall time: on a shared machine it is the steadier figure (run with
/// <c>threads=1</c> so that no thread spins waiting for another).
/// Usage: <c>context [N…=100 1000] [size=256] [desc=256] [M=64] [threads=T]</c>; 10000 is run by hand (about 10× the 1000
/// run, ~2 h at the defaults on two cores); runs of N ≥ 2,000 report time per image and peak RSS every 1,000 images on stderr.
/// </summary>
internal static class ContextBench
{
    public static int Run(string[] args)
    {
        var numbers = args.Where(a => a.All(char.IsDigit)).Select(int.Parse).ToList();
        int[] counts = numbers.Count > 0 ? [.. numbers] : [100, 1000];
        var defaults = new ContextOptions();
        int Arg(string name, int fallback) =>
            args.FirstOrDefault(a => a.StartsWith(name + "=", StringComparison.Ordinal)) is { } a ? int.Parse(a[(name.Length + 1)..]) : fallback;
        int size = Arg("size", 256);
        var descriptors = defaults.Descriptors with { ImageSize = Arg("desc", defaults.Descriptors.ImageSize) };
        var mutual = defaults.Mutual with { MaxReferences = Arg("M", defaults.Mutual.MaxReferences) };
        int m = mutual.MaxReferences;
        if (Arg("threads", 0) is > 0 and var threads) TorchSharp.torch.set_num_threads(threads);
        var fusion = defaults.Fusion;
        Console.WriteLine($"batch context: {size}x{size} synthetic images, descriptors at {descriptors.ImageSize} px, M = {m}, " +
                          $"{TorchSharp.torch.get_num_threads()} thread(s)");
        Console.WriteLine("| N | total s | ms / image | CPU ms / image | peak RSS MiB |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        var process = Process.GetCurrentProcess();
        foreach (int n in counts)
        {
            process.Refresh();
            var cpu = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            double checksum = 0;
            int done = 0;
            foreach (var (k, d, scores) in MutualScoring.Stream(n, k => PatchDescriptors.Compute(Synthetic(k, size), descriptors), mutual))
            {
                using var map = d.ToImage(scores, descriptors.ImageSize);                           // [H, W]
                var fused = fusion.Fuse(new float[size * size], map.data<float>().ToArray());
                checksum += fused[0];
                if (++done % 1000 == 0 && done < n)                                                 // a long run reports as it goes
                    Console.Error.WriteLine($"  N = {n}: {done} images, {clock.Elapsed.TotalMilliseconds / done:F1} ms / image, peak RSS {LanguageBench.PeakRssMiB():F0} MiB");
            }
            clock.Stop();
            process.Refresh();
            double cpuMs = (process.TotalProcessorTime - cpu).TotalMilliseconds;
            Console.WriteLine($"| {n} | {clock.Elapsed.TotalSeconds:F1} | {clock.Elapsed.TotalMilliseconds / n:F1} | {cpuMs / n:F1} | {LanguageBench.PeakRssMiB():F0} |");
            GC.KeepAlive(checksum);
        }
        return 0;
    }

    /// <summary>Image k: a seeded noisy stripe texture; every tenth has a dark disc.</summary>
    private static RgbImage Synthetic(int k, int size)
    {
        var random = new Random(k);
        var pixels = new byte[size * size * 3];
        double phase = random.NextDouble() * Math.PI;
        int cx = random.Next(size / 4, 3 * size / 4), cy = random.Next(size / 4, 3 * size / 4), radius = size / 10;
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                double v = 128 + 40 * Math.Sin(x * 0.5 + phase) + random.Next(-12, 13);
                if (k % 10 == 0 && (x - cx) * (x - cx) + (y - cy) * (y - cy) < radius * radius) v = 30;
                byte b = (byte)Math.Clamp(v, 0, 255);
                int i = (y * size + x) * 3;
                pixels[i] = b;
                pixels[i + 1] = (byte)(b * 0.9);
                pixels[i + 2] = (byte)(b * 0.7);
            }
        return new RgbImage(size, size, pixels);
    }
}
