using AgVas.Modeling;
using static TorchSharp.torch;

namespace AgVas.Bench;

/// <summary>
/// The pixel neck's in-image rarity (<see cref="ResNetPixelNeck.Rarity"/>) at the three inference sides of the embedded
/// model: median time, and the Gram matmul's share (its FLOPs over the machine's fp32 matmul rate) next to the k-th
/// nearest selection. Stage tensors are random (the cost depends only on their shapes).
/// Usage: <c>rarity [iterations=10]</c>
/// </summary>
internal static class RarityBench
{
    public static int Run(string[] args)
    {
        int iterations = args.Length > 0 ? int.Parse(args[0]) : 10;
        if (iterations < 1) throw new ArgumentException($"iterations must be ≥ 1, got {iterations}");
        double matmul = Training.MatmulRate.Measure(n: 2048, reps: 2, rounds: 2) / 1e9;
        Console.WriteLine($"threads {get_num_threads()}, fp32 matmul yardstick {matmul:F1} GFLOP/s, {iterations} iterations after 2 warm-up");
        Console.WriteLine($"{"side",5} {"patches",8} {"median ms",10} {"Gram GFLOP",11} {"Gram ms at yardstick",21} {"% of time",9}");
        using var gen = new Generator(0);
        foreach (int side in new[] { 256, 384, 512 })
        {
            using var _ = NewDisposeScope();
            using var scope = no_grad();
            var s2 = randn(1, 128, side / 8, side / 8, generator: gen);                        // [1, 128, S/8, S/8]
            var s3 = randn(1, 256, side / 16, side / 16, generator: gen);                      // [1, 256, S/16, S/16]
            double median = BackboneBench.MedianMs(iterations, warmup: 2, () => ResNetPixelNeck.Rarity(s2, s3, 3).Dispose());
            long n = (long)(side / 8) * (side / 8);
            double gram = 2.0 * n * n * 384 / 1e9;
            double gramMs = gram / matmul * 1000;
            Console.WriteLine($"{side,5} {n,8} {median,10:F1} {gram,11:F2} {gramMs,21:F1} {100 * gramMs / median,8:F0}%");
        }
        return 0;
    }
}
