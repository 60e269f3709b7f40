using System.Diagnostics;
using AgVas.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Bench;

/// <summary>
/// Forward latency, peak memory and achieved GFLOP/s of the vision side, per image, random weights:
/// the SAM ViT-B image encoder at 1024² and the whole <c>tiny</c> vision side (SigLIP-like + projector + SAM-like
/// encoder + SPAM + Token Refiner + AGMD). FLOPs are counted analytically (matmuls, convolutions and attention
/// products; 2 FLOPs per multiply-add) and compared with this machine's fp32 matmul rate.
/// Usage: <c>vision [reps=3]</c>.
/// </summary>
internal static class VisionBench
{
    public static int Run(string[] args)
    {
        int reps = args.Length > 0 ? int.Parse(args[0]) : 3;
        bool skipSam = args.Contains("--tiny-only");
        Console.WriteLine($"threads: {get_num_threads()}, reps: {reps}");
        double matmulGflops = MatmulRate();
        Console.WriteLine($"fp32 matmul yardstick (2048²): {matmulGflops:F1} GFLOP/s");

        manual_seed(0);
        if (!skipSam)
        using (var sam = new PixelEncoder(VisionPresets.SamVitB))
        {
            sam.eval();
            Measure("SAM ViT-B image encoder, 1024²", reps, matmulGflops, SamEncoderFlops(VisionPresets.SamVitB), () =>
            {
                using var x = randn(1, 3, 1024, 1024);
                using var y = sam.forward(x);
            });
        }

        var tiny = VisionPresets.Tiny;
        using (var side = VisionBuilder.Build(tiny))
        {
            side.eval();
            Measure("tiny vision side (224² semantic + 256² pixel + SPAM + refiner + AGMD)", reps * 5, matmulGflops, TinySideFlops(tiny), () =>
            {
                using var scope = NewDisposeScope();
                var fs = side.Projector.forward(side.SemanticEncoder.forward(randn(1, 3, 224, 224)));
                var fp = side.PixelEncoder.forward(randn(1, 3, 256, 256));
                side.Spam.forward(fs, fp);
                var anchors = side.TokenRefiner.forward(randn(1, 3, tiny.TokenRefiner.InputDim));
                using var output = side.Agmd.forward(fp, anchors);
            });
            Breakdown(side, reps * 5);
        }
        return 0;
    }

    private static void Measure(string label, int reps, double matmulGflops, double flops, Action forward)
    {
        using var _ = no_grad();
        forward(); // warm-up
        long baseline = ReadStatusKb("VmRSS");
        ResetPeakRss();
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < reps; i++) forward();
        sw.Stop();
        long peak = ReadStatusKb("VmHWM");
        double ms = sw.Elapsed.TotalMilliseconds / reps;
        double gflops = flops / (ms / 1000) / 1e9;
        Console.WriteLine($"{label}: {ms:F1} ms/image, {flops / 1e9:F2} GFLOP/image, {gflops:F1} GFLOP/s "
            + $"({100 * gflops / matmulGflops:F0}% of matmul), peak RSS +{(peak - baseline) / 1024.0:F0} MiB over {baseline / 1024.0:F0} MiB");
    }

    /// <summary>Per-component latency of the tiny side, to show where small-op overhead goes.</summary>
    private static void Breakdown(VisionSide side, int reps)
    {
        using var _ = no_grad();
        using var semantic = randn(1, 3, 224, 224);
        using var pixel = randn(1, 3, 256, 256);
        using var features = side.SemanticEncoder.forward(semantic);
        using var fs = side.Projector.forward(features);
        using var fp = side.PixelEncoder.forward(pixel);
        using var states = randn(1, 3, side.Config.TokenRefiner.InputDim);
        using var anchors = side.TokenRefiner.forward(states);
        var parts = new (string Name, Action Run)[]
        {
            ("semantic_encoder", () => side.SemanticEncoder.forward(semantic).Dispose()),
            ("projector", () => side.Projector.forward(features).Dispose()),
            ("pixel_encoder", () => side.PixelEncoder.forward(pixel).Dispose()),
            ("spam", () => side.Spam.forward(fs, fp).Dispose()),
            ("token_refiner", () => side.TokenRefiner.forward(states).Dispose()),
            ("agmd", () => side.Agmd.forward(fp, anchors).Dispose()),
        };
        foreach (var (name, run) in parts)
        {
            run();
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < reps; i++) run();
            Console.WriteLine($"  {name,-16} {sw.Elapsed.TotalMilliseconds / reps,8:F2} ms");
        }
    }

    private static double MatmulRate()
    {
        using var _ = no_grad();
        using var a = randn(2048, 2048);
        using var b = randn(2048, 2048);
        using (matmul(a, b)) { }
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < 5; i++) using (matmul(a, b)) { }
        return 2.0 * 2048 * 2048 * 2048 * 5 / sw.Elapsed.TotalSeconds / 1e9;
    }

    /// <summary>Linux: writing 5 to clear_refs resets VmHWM (peak RSS) to the current RSS.</summary>
    private static void ResetPeakRss()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static long ReadStatusKb(string key)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(key + ":", StringComparison.Ordinal))
                return long.Parse(line[(key.Length + 1)..].Trim().Split(' ')[0]);
        return 0;
    }

    internal static double SamEncoderFlops(PixelEncoderConfig c)
    {
        double d = c.HiddenSize, g = c.GridSize, n = g * g, o = c.OutputChannels;
        double flops = 2 * n * d * c.NumChannels * c.PatchSize * c.PatchSize;
        for (int i = 0; i < c.NumHiddenLayers; i++)
        {
            flops += 2 * n * (3 * d * d + d * d + 2 * d * c.MlpDim);
            double side = c.IsGlobal(i) ? g : c.WindowSize;
            double windows = c.IsGlobal(i) ? 1 : Math.Pow(Math.Ceiling(g / side), 2);
            double t = side * side;
            flops += windows * (4 * t * t * d + 2 * t * 2 * side * d); // QKᵀ, AV, relative-position products
        }
        return flops + 2 * n * d * o + 2 * n * o * o * 9;
    }

    internal static double SiglipFlops(SemanticEncoderConfig c)
    {
        double d = c.HiddenSize, n = c.NumPatches;
        return 2 * n * d * c.NumChannels * c.PatchSize * c.PatchSize
            + c.LayersUsed * (2 * n * (4 * d * d + 2 * d * c.IntermediateSize) + 4 * n * n * d);
    }

    internal static double TinySideFlops(VisionConfig c)
    {
        double ns = c.SemanticEncoder.NumPatches, np = Math.Pow(c.PixelEncoder.GridSize, 2);
        double cs = c.Projector.InputSize, dl = c.Projector.OutputSize, cp = c.PixelEncoder.OutputChannels, dd = c.Spam.Dim;
        double projector = 2 * ns * (cs * dl + dl * dl);
        double spam = 2 * ns * dl * dd + 2 * 2 * np * cp * dd + 2 * ns * dd * dd * 2 + 2 * 2 * np * dd * dd + 4 * ns * np * dd;
        double refiner = 2 * 3 * (dl * dl + dl * c.TokenRefiner.OutputDim);
        double a = c.Agmd.HiddenSize, inner = a / c.Agmd.AttentionDownsampleRate;
        double perLayer = 2 * np * a * inner * 2 + 2 * np * a * inner + 2 * np * inner * a + 2 * 4 * np * 6 * inner;
        double agmd = c.Agmd.NumHiddenLayers * perLayer + 2 * np * a * inner * 2
            + 2 * np * a * (a / 4) * 4 + 2 * 4 * np * (a / 4) * (a / 8) * 4 + 2 * 3 * 16 * np * (a / 8);
        return SiglipFlops(c.SemanticEncoder) + projector + SamEncoderFlops(c.PixelEncoder) + spam + refiner + agmd;
    }
}
