using System.Diagnostics;
using AgVas.Checkpoints;
using AgVas.Modeling;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Bench;

/// <summary>
/// The pretrained ResNet-18 backbone (NuGet <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> 0.24.0) two ways, to answer
/// "map the weights onto a TorchSharp ResNet-18, or run the graph in ONNX Runtime: measure both and take the faster at
/// equal outputs": <see cref="ResNet18Onnx.Shared"/> under no_grad at 224² (batch 1 and 8), 256², 384² and 512² (batch 1: the default model's scales),
/// and the package's ONNX file in an ORT <see cref="InferenceSession"/> (CPU, intra-op threads = TorchSharp's, all
/// graph optimisations) at its declared 1×3×224×224 input (and batch 8 if it accepts it). Per case: median latency
/// over N iterations after warm-up, images/s, achieved GFLOP/s (<see cref="ResNet18.Flops"/>, convolutions only) and
/// that as a share of this machine's fp32 matmul rate (<see cref="Training.MatmulRate"/> at 2048², the `matmul` bench's size). Equal outputs: ORT's
/// pooled 512-vector against TorchSharp's Stage4 averaged over H, W on the same preprocessed input.
/// Usage: <c>backbone [iterations=20]</c>.
/// </summary>
internal static class BackboneBench
{
    private sealed record Row(string Runtime, int Size, int Batch, double? MedianMs, string? Note = null);

    public static int Run(string[] args)
    {
        int iterations = args.Length > 0 ? int.Parse(args[0]) : 20;
        if (iterations < 1) throw new ArgumentException($"iterations must be ≥ 1, got {iterations}");
        int warmup = Math.Clamp(iterations / 5, 2, 5);
        int threads = get_num_threads();
        Console.WriteLine($"threads: {threads} (torch.get_num_threads(), also ORT intra-op), iterations: {iterations} after {warmup} warm-up");
        // The yardstick: MatmulRate at the `matmul` bench's 2048² (its default 512² product is short enough that a
        // loaded machine has measured it at a third of the 2048² rate); the 512² rate is printed too.
        double matmulGflops = Training.MatmulRate.Measure(n: 2048, reps: 2, rounds: 2) / 1e9;
        double matmulSmallGflops = Training.MatmulRate.Measure() / 1e9;
        Console.WriteLine($"fp32 matmul yardstick (MatmulRate, 2048², best of 2): {matmulGflops:F1} GFLOP/s (512²: {matmulSmallGflops:F1})");

        var (model, preprocess) = ResNet18Onnx.Shared;
        var rows = new List<Row>();

        // TorchSharp: the sizes the model uses.
        // Whichever case ran first was seen 3-4x slower beyond two warm-up iterations (libtorch's lazy set-up), so every
        // case is warmed up once before any is timed (and again, briefly, right before its own timing).
        var cases = new (int Size, int Batch)[] { (224, 1), (224, 8), (256, 1), (384, 1), (512, 1) };
        using (no_grad())
        {
            var inputs = cases.Select(c => Input(preprocess, c.Batch, c.Size)).ToArray();
            foreach (var x in inputs)
                for (int i = 0; i < warmup; i++) { using var stages = model.forward(x); }
            for (int c = 0; c < cases.Length; c++)
            {
                var x = inputs[c];
                double ms = MedianMs(iterations, warmup, () => { using var stages = model.forward(x); });
                rows.Add(new Row("TorchSharp", cases[c].Size, cases[c].Batch, ms));
            }
            foreach (var x in inputs) x.Dispose();
        }

        // ONNX Runtime: the graph at its declared input; reference output from TorchSharp on the same input.
        string path = ResNet18Onnx.Locate(ResNet18Onnx.ModelRelativePath);
        using var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        using var session = new InferenceSession(path, options);
        var (inputName, inputMeta) = session.InputMetadata.Single();
        var outputName = session.OutputMetadata.Keys.First();
        Console.WriteLine($"ORT {OrtEnv.Instance().GetVersionString()}: input '{inputName}' [{string.Join(", ", inputMeta.Dimensions)}], "
            + $"output '{outputName}' [{string.Join(", ", session.OutputMetadata[outputName].Dimensions)}]");
        using var runOptions = new RunOptions();

        float[] ortOut;
        float[] torchOut;
        using (var x1 = Input(preprocess, 1, 224))
        using (var o1 = ToOrt(x1))
        {
            ortOut = RunOrt(session, runOptions, inputName, outputName, o1);
            using (no_grad())
            using (var stages = model.forward(x1))
            using (var pooled = stages.Stage4.mean([2, 3]))                                  // [1, 512]
                torchOut = pooled.data<float>().ToArray();
            double ms = MedianMs(iterations, warmup, () => RunOrt(session, runOptions, inputName, outputName, o1));
            rows.Add(new Row("ONNX Runtime", 224, 1, ms));
        }
        using (var x8 = Input(preprocess, 8, 224))
        using (var o8 = ToOrt(x8))
        {
            try
            {
                RunOrt(session, runOptions, inputName, outputName, o8);
                double ms = MedianMs(iterations, warmup, () => RunOrt(session, runOptions, inputName, outputName, o8));
                rows.Add(new Row("ONNX Runtime", 224, 8, ms));
            }
            catch (OnnxRuntimeException e)
            {
                rows.Add(new Row("ONNX Runtime", 224, 8, null, "rejected: " + OneLine(e.Message)));
            }
        }

        // Equal outputs.
        if (ortOut.Length != torchOut.Length)
            Console.WriteLine($"outputs: ORT gives {ortOut.Length} values, TorchSharp's pooled Stage4 {torchOut.Length}: not comparable");
        else
        {
            double maxDiff = 0, maxAbs = 0;
            for (int i = 0; i < ortOut.Length; i++)
            {
                maxDiff = Math.Max(maxDiff, Math.Abs(ortOut[i] - torchOut[i]));
                maxAbs = Math.Max(maxAbs, Math.Abs(torchOut[i]));
            }
            Console.WriteLine($"outputs (224², batch 1, ORT '{outputName}' vs TorchSharp Stage4 mean over H,W; {ortOut.Length} values): "
                + $"max |diff| {maxDiff:E2}, max |value| {maxAbs:F3}, relative {maxDiff / maxAbs:E2}");
        }

        // Table and verdict.
        Console.WriteLine($"{"runtime",-13} {"input",-8} {"batch",5} {"median ms",10} {"images/s",9} {"GFLOP/s",8} {"% matmul",8}");
        foreach (var r in rows)
        {
            string input = $"{r.Size}x{r.Size}";
            if (r.MedianMs is not { } ms) { Console.WriteLine($"{r.Runtime,-13} {input,-8} {r.Batch,5}  {r.Note}"); continue; }
            double seconds = ms / 1000;
            double gflops = ResNet18.Flops(r.Size, r.Size) * r.Batch / seconds / 1e9;
            Console.WriteLine($"{r.Runtime,-13} {input,-8} {r.Batch,5} {ms,10:F1} {r.Batch / seconds,9:F1} {gflops,8:F1} {100 * gflops / matmulGflops,7:F0}%");
        }
        double ts = rows.First(r => r.Runtime == "TorchSharp" && r.Size == 224 && r.Batch == 1).MedianMs!.Value;
        double ort = rows.First(r => r.Runtime == "ONNX Runtime" && r.Size == 224 && r.Batch == 1).MedianMs!.Value;
        string faster = ort < ts ? "ONNX Runtime" : "TorchSharp";
        Console.WriteLine($"verdict (224², batch 1): {faster} is faster, {Math.Max(ts, ort) / Math.Min(ts, ort):F2}x "
            + $"(TorchSharp {ts:F1} ms, ONNX Runtime {ort:F1} ms; {ResNet18.Flops(224, 224) / 1e9:F2} GFLOP/image)");
        if (rows.Any(r => r.MedianMs is { } ms && ResNet18.Flops(r.Size, r.Size) * r.Batch / (ms / 1000) / 1e9 > matmulGflops))
            Console.WriteLine("note: over 100% of matmul means the convolutions (libtorch's in TorchSharp, MLAS in ORT) use this CPU "
                + "better than TorchSharp's fp32 matmul, the yardstick, does.");
        Console.WriteLine("note: only TorchSharp runs at arbitrary sizes (the graph's pads and input are fixed at 224²) "
            + "and exposes the four stages (strides 4-32); the ONNX graph gives only the pooled 512-vector.");
        return 0;
    }

    /// <summary>A fixed preprocessed input: seeded uniform RGB on 0–255, through the package's preprocessing.</summary>
    /// <returns>[batch, 3, size, size] BGR − mean image</returns>
    private static Tensor Input(ResNetPreprocess preprocess, int batch, int size)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(1234);
        var rgb = rand([batch, 3, size, size], generator: generator) * 255;                  // [B, 3, S, S]
        return preprocess.Apply(rgb).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>The tensor's values copied once into an ORT value (outside the timed runs).</summary>
    private static OrtValue ToOrt(Tensor x) => OrtValue.CreateTensorValueFromMemory(x.data<float>().ToArray(), x.shape);

    private static float[] RunOrt(InferenceSession session, RunOptions runOptions, string inputName, string outputName, OrtValue input)
    {
        using var outputs = session.Run(runOptions, [inputName], [input], [outputName]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>Median wall time of <paramref name="run"/> over <paramref name="iterations"/> calls, after <paramref name="warmup"/> untimed ones.</summary>
    internal static double MedianMs(int iterations, int warmup, Action run)
    {
        for (int i = 0; i < warmup; i++) run();
        var times = new double[iterations];
        for (int i = 0; i < iterations; i++)
        {
            long start = Stopwatch.GetTimestamp();
            run();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return iterations % 2 == 1 ? times[iterations / 2] : (times[iterations / 2 - 1] + times[iterations / 2]) / 2;
    }

    private static string OneLine(string message) => string.Join(" ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
