using System.Diagnostics;
using static TorchSharp.torch;

namespace AgVas.Bench;

/// <summary>Measures the fp32 matmul rate (GFLOP/s) that model speed is judged against.</summary>
internal static class MatmulBench
{
    public static int Run(string[] args)
    {
        int n = args.Length > 0 ? int.Parse(args[0]) : 2048;
        Console.WriteLine($"threads: {get_num_threads()}, n = {n}");
        using var a = randn(n, n);
        using var b = randn(n, n);
        using (var warm = matmul(a, b)) { }
        const int reps = 10;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < reps; i++) { using var c = matmul(a, b); }
        sw.Stop();
        double gflops = 2.0 * n * n * n * reps / sw.Elapsed.TotalSeconds / 1e9;
        Console.WriteLine($"fp32 matmul {n}x{n}: {gflops:F1} GFLOP/s ({sw.Elapsed.TotalMilliseconds / reps:F1} ms per product)");
        return 0;
    }
}
