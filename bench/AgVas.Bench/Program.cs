using AgVas.Bench;

AgVas.HeapTuning.Apply();

// `dotnet run --project bench/AgVas.Bench -c Release -- <name> [args]`: one benchmark per file, each reports its
// figures (time, throughput, peak memory) to stdout. BenchmarkDotNet is used where micro-benchmarks fit.
var benches = new Dictionary<string, (string Help, Func<string[], int> Run)>
{
    ["train"] = ("training throughput (examples/s), MFU and peak memory of a preset on synthesized data: [preset=tiny] [steps=10] [batch=2] [size=128]", TrainBench.Run),
    ["predict"] = ("prediction speed (images/s, sequential and concurrent) and peak memory: [model dir or preset=tiny] [images=8] [size=256] [mode]", PredictBench.Run),
    ["serve"] = ("agvas serve under load (#17): N concurrent uploads on loopback, status codes, p50/p95 latency, peak RSS, healthz, Ctrl-C: [clients=100] [max-queue=16] [deadline s=900] [image]", ServeBench.Run),
    ["context"] = ("batch context (#16) time per image and peak RSS on N synthetic images: [N...=100 1000] [size=256] [desc=256] [M=64] [threads=T]", ContextBench.Run),
    ["context-probe"] = ("context maps alone of a dataset into a prediction dir (how the context defaults were chosen on dev): data out batch|fewshot size M [lowest fraction|- [agvasPredDir whose masks exclude marked patches]]", ContextProbe.Run),
    ["fuse-probe"] = ("fuses an AG-VAS prediction dir with a context-probe dir, F = w·P + (1−w)·σ((s − a)/b): data agvasPred ctxPred out w a b [threshold [seed]]", FuseProbe.Run),
    ["matmul"] = ("fp32 matmul rate of TorchSharp on this machine (the yardstick for model FLOP utilisation)", MatmulBench.Run),
    ["eval"] = ("agvas eval on 2,000 generated 256x256 images in 10 categories vs the scikit-learn reference: [--images N] [--categories C] [--size S] [--keep] [--no-python] [--dir D]", EvalBench.Run),
    ["synth"] = ("Anomaly-Seg synthesis samples/s and peak memory (generation alone and with PNG writing)", SynthBench.Run),
    ["language"] = ("LLM greedy generation: time to first token, tokens/s, peak memory (language [tiny|ov-0.5b] [P] [N])", LanguageBench.Run),
    ["vision"] = ("forward latency, peak memory and GFLOP/s of the SAM ViT-B encoder at 1024² and of the tiny vision side", VisionBench.Run),
    ["rarity"] = ("the pixel neck's in-image rarity (k-th nearest patch) at 256, 384, 512 px: median ms and the Gram matmul's share: [iterations=10]", RarityBench.Run),
    ["backbone"] = ("pretrained ResNet-18: TorchSharp vs ONNX Runtime latency, images/s, GFLOP/s vs matmul, output agreement: [iterations=20]", BackboneBench.Run),
    ["safetensors"] = ("sharded safetensors write/read throughput and load memory overhead: [MB=512] [dir to keep]", SafeTensorsBench.Run),
};
if (args.Length == 0 || !benches.TryGetValue(args[0], out var bench))
{
    Console.Error.WriteLine("usage: AgVas.Bench <name> [args]\n" + string.Join("\n", benches.Select(b => $"  {b.Key,-16} {b.Value.Help}")));
    return args.Length == 0 ? 0 : 2;
}
return bench.Run(args[1..]);
