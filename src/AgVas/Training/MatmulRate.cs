using System.Diagnostics;
using static TorchSharp.torch;

namespace AgVas.Training;

/// <summary>The fp32 matmul rate of this machine (FLOP/s), the yardstick of model-FLOPs utilisation (as the
/// <c>matmul</c> benchmark measures it, on a smaller product so that it takes well under a second). The best of
/// <c>rounds</c> timings: another process taking a core for a moment slows one round, not all.</summary>
public static class MatmulRate
{
    public static double Measure(int n = 512, int reps = 8, int rounds = 3)
    {
        using var scope = NewDisposeScope();
        using var guard = no_grad();
        var a = randn(n, n);
        var b = randn(n, n);
        matmul(a, b).Dispose();
        double best = 0;
        for (int round = 0; round < rounds; round++)
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < reps; i++) matmul(a, b).Dispose();
            best = Math.Max(best, 2.0 * n * n * n * reps / sw.Elapsed.TotalSeconds);
        }
        return best;
    }
}
