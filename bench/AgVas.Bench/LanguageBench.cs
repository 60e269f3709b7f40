using System.Diagnostics;
using AgVas.Inference;
using AgVas.Modeling;
using static TorchSharp.torch;

namespace AgVas.Bench;

/// <summary>Greedy generation speed of the LLM with random weights: time to first token (prefill of P prompt positions
/// plus the first logits), decode tokens per second with the KV cache, and the process's peak resident memory.
/// Usage: language [tiny|ov-0.5b] [prompt length P] [new tokens N]. P ≈ 1500 is the AG-VAS prompt at 0.5B/7B scale
/// (729 visual tokens f_s, 729 f_align, the question).</summary>
internal static class LanguageBench
{
    public static int Run(string[] args)
    {
        var preset = args.Length > 0 ? args[0] : "tiny";
        int promptLength = args.Length > 1 ? int.Parse(args[1]) : 256;
        int newTokens = args.Length > 2 ? int.Parse(args[2]) : 32;
        var config = preset switch
        {
            "tiny" => Qwen2Config.Tiny,
            "ov-0.5b" => Qwen2Config.Ov05b,
            "paper" => Qwen2Config.Paper,
            _ => throw new ArgumentException($"unknown preset {preset}"),
        };
        Console.WriteLine($"preset {preset}: {config.ParameterCount():N0} LLM parameters, threads {get_num_threads()}, P = {promptLength}, N = {newTokens}");
        manual_seed(0);
        var build = Stopwatch.StartNew();
        using var lm = new Qwen2ForCausalLM("lm", config, new LoraConfig());
        lm.eval();
        lm.MergeAdapters();
        Console.WriteLine($"build + random init: {build.Elapsed.TotalSeconds:F1} s, RSS {PeakRssMiB():F0} MiB");

        using var guard = no_grad();
        var options = new GenerationOptions { MaxNewTokens = newTokens };
        for (int run = 0; run < 2; run++)   // run 0 warms up
        {
            using var scope = NewDisposeScope();
            var ids = randint(0, config.VocabSize, [1, promptLength], dtype: ScalarType.Int64);
            var embeds = lm.Embed(ids);                                                          // [1, P, D]
            var first = Stopwatch.StartNew();
            using (var one = Generation.Greedy(lm, embeds, null, options with { MaxNewTokens = 1 })) { }
            double ttft = first.Elapsed.TotalSeconds;
            var all = Stopwatch.StartNew();
            using var result = Generation.Greedy(lm, embeds, null, options);
            double total = all.Elapsed.TotalSeconds;
            double decodeRate = (result.Tokens[0].Length - 1) / Math.Max(1e-9, total - ttft);
            if (run == 1)
                Console.WriteLine($"time to first token {ttft * 1000:F0} ms; decode {decodeRate:F1} tokens/s " +
                                  $"({result.Tokens[0].Length} tokens in {total:F2} s); peak RSS {PeakRssMiB():F0} MiB");
        }
        return 0;
    }

    /// <summary>VmHWM of this process (Linux), MiB.</summary>
    internal static double PeakRssMiB()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;
        return double.NaN;
    }
}
