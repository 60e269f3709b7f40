using System.Diagnostics;
using AgVas.Checkpoints;
using AgVas.Data;
using AgVas.Inference;
using AgVas.Modeling;
using AgVas.Text;
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
        if (args.Length > 0 && args[0] == "e2e") return EndToEnd(args[1..]);
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
        // Warm-up on a short prompt, then the measured run: prefill of P positions with the KV cache and the first
        // token's logits (time to first token), then N single-token steps (decode rate), as Generation.Greedy does them.
        Measure(lm, config, 8, 2);
        var (ttft, rate) = Measure(lm, config, promptLength, newTokens);
        Console.WriteLine($"time to first token {ttft * 1000:F0} ms; decode {rate:F2} tokens/s; peak RSS {PeakRssMiB():F0} MiB; " +
                          $"load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        using (var scope = NewDisposeScope())
        {
            var embeds = lm.Embed(randint(0, config.VocabSize, [1, promptLength], dtype: ScalarType.Int64));  // [1, P, D]
            foreach (var n in new[] { newTokens })
            {
                var sw = Stopwatch.StartNew();
                using var result = Generation.Greedy(lm, embeds, null, new GenerationOptions { MaxNewTokens = n });
                Console.WriteLine($"Generation.Greedy, prefill + {result.Tokens[0].Length} tokens: {sw.Elapsed.TotalSeconds:F3} s");
            }
        }
        return 0;
    }

    private static (double Ttft, double TokensPerSecond) Measure(Qwen2ForCausalLM lm, Qwen2Config config, int promptLength, int newTokens)
    {
        using var scope = NewDisposeScope();
        using var cache = lm.NewCache();
        var ids = randint(0, config.VocabSize, [1, promptLength], dtype: ScalarType.Int64);      // [1, P]
        var sw = Stopwatch.StartNew();
        var hidden = lm.Hidden(lm.Embed(ids), null, null, cache);                               // [1, P, D]
        var next = lm.Logits(hidden[.., ^1..]).argmax(-1);                                      // [1, 1]
        _ = next.item<long>();
        double ttft = sw.Elapsed.TotalSeconds;
        sw.Restart();
        for (int i = 0; i < newTokens; i++)
        {
            using var step = NewDisposeScope();
            var h = lm.Hidden(lm.Embed(next), null, null, cache);                               // [1, 1, D]
            next = lm.Logits(h).argmax(-1).MoveToOuterDisposeScope();                           // [1, 1]
            _ = next.item<long>();
        }
        return (ttft, newTokens / sw.Elapsed.TotalSeconds);
    }

    /// <summary>End-to-end time per image with the full random model: image → encoders → LLM generation (greedy, KV cache,
    /// N new tokens at most) → anchors → AGMD → maps and mask at the original size. Usage: language e2e [preset] [images] [N].</summary>
    private static int EndToEnd(string[] args)
    {
        var preset = args.Length > 0 ? args[0] : "tiny";
        int count = args.Length > 1 ? int.Parse(args[1]) : 8;
        int newTokens = args.Length > 2 ? int.Parse(args[2]) : 16;
        manual_seed(0);
        // The built-in tiny tokenizer serves every preset here (random weights): its <image> id becomes the placeholder.
        var tokenizer = Qwen2Tokenizer.Tiny();
        var config = AgVasConfig.Preset(preset) with { ImageTokenId = tokenizer.TokenToId(ChatTemplate.ImageToken)!.Value };
        using var model = new AgVasModel(config);
        LlavaOnevisionCheckpoint.AddAnchors(tokenizer, config.Llm.VocabSize, "tiny");
        var predictor = new AgVasInferenceModel(model, tokenizer, new PredictorOptions { MaxNewTokens = newTokens });
        var rng = new Random(1);
        RgbImage Image()
        {
            var pixels = new byte[320 * 240 * 3];
            rng.NextBytes(pixels);
            return new RgbImage(320, 240, pixels);
        }
        Console.WriteLine($"preset {preset}: {model.parameters().Sum(p => p.numel()):N0} parameters, N_s = {config.Vision.SemanticEncoder.NumPatches}, " +
                          $"pixel input {config.Vision.PixelEncoder.ImageSize} px, up to {newTokens} new tokens, RSS {PeakRssMiB():F0} MiB");
        predictor.Predict([Image()], InstructionType.DirectSegmentation);   // warm-up
        var sw = Stopwatch.StartNew();
        int forced = 0;
        for (int i = 0; i < count; i++) forced += predictor.Predict([Image()], InstructionType.DirectSegmentation)[0].AnchorsForced ? 1 : 0;
        Console.WriteLine($"{sw.Elapsed.TotalSeconds / count:F2} s per 320×240 image ({count} images, {forced} with forced anchors); peak RSS {PeakRssMiB():F0} MiB");
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
