using TorchSharp;
using AgVas.Inference;
using AgVas.Modeling;
using static TorchSharp.torch;

namespace AgVas.Tests.Modeling;

public class Qwen2GenerationTests
{
    private static Qwen2ForCausalLM TinyModel(int seed)
    {
        manual_seed(seed);
        var lm = new Qwen2ForCausalLM("lm", Qwen2Config.Tiny with { TieWordEmbeddings = false });
        // Larger weights than the 0.02 init make the greedy path depend on the whole context.
        using (no_grad()) foreach (var p in lm.parameters()) if (p.dim() == 2) p.mul_(25);
        lm.eval();
        return lm;
    }

    [Fact]
    public void KvCacheGivesTheSameTokensAsFullRecomputation()
    {
        using var scope = NewDisposeScope();
        var lm = TinyModel(11);
        var prompt = lm.Embed(tensor(new long[] { 3, 17, 42, 8, 99, 120 }).unsqueeze(0));  // [1, 6, D]
        var options = new GenerationOptions { MaxNewTokens = 16 };
        using var cached = Generation.Greedy(lm, prompt, null, options);
        using var full = Generation.Greedy(lm, prompt, null, options with { UseCache = false });
        Assert.Equal(16, cached.Tokens[0].Length);
        Assert.Equal(full.Tokens[0], cached.Tokens[0]);
        Assert.True(cached.Tokens[0].Distinct().Count() > 1, "degenerate generation: " + string.Join(",", cached.Tokens[0]));
        Qwen2GoldenFixture.AssertClose(full.Hidden, cached.Hidden, 1e-4, "hidden states");
    }

    [Fact]
    public void LeftPaddedBatchGivesTheSameTokensAsSingleRows()
    {
        using var scope = NewDisposeScope();
        var lm = TinyModel(12);
        long[] a = [5, 6, 7, 8, 9], bShort = [40, 41, 42];
        var options = new GenerationOptions { MaxNewTokens = 10 };
        using var ra = Generation.Greedy(lm, lm.Embed(tensor(a).unsqueeze(0)), null, options);
        using var rb = Generation.Greedy(lm, lm.Embed(tensor(bShort).unsqueeze(0)), null, options);
        var ids = tensor(new long[] { 5, 6, 7, 8, 9, 0, 0, 40, 41, 42 }).view(2, 5);                  // [2, 5]
        var mask = tensor(new long[] { 1, 1, 1, 1, 1, 0, 0, 1, 1, 1 }).view(2, 5);                     // [2, 5]
        using var batch = Generation.Greedy(lm, lm.Embed(ids), mask, options);
        Assert.Equal(ra.Tokens[0], batch.Tokens[0]);
        Assert.Equal(rb.Tokens[0], batch.Tokens[1]);
    }

    [Fact]
    public void MissingRequiredIdsAreForcedAtTheEndAndFlagged()
    {
        using var scope = NewDisposeScope();
        var lm = TinyModel(13);
        var prompt = lm.Embed(tensor(new long[] { 1, 2, 3 }).unsqueeze(0));
        using var free = Generation.Greedy(lm, prompt, null, new GenerationOptions { MaxNewTokens = 8 });
        var t = free.Tokens[0];
        int k = Enumerable.Range(1, t.Length - 1).First(i => !t[..i].Contains(t[i]));
        int stopId = t[k];                              // the model "stops" at its k-th token (first time it appears)
        int[] suffix = [200, 201, 202];
        var options = new GenerationOptions { MaxNewTokens = 8, StopIds = [stopId], RequiredIds = [201, 202], ForcedSuffix = suffix };
        using var forced = Generation.Greedy(lm, prompt, null, options);
        Assert.True(forced.Forced[0]);
        Assert.Equal(t[..k].Concat(suffix).ToArray(), forced.Tokens[0]);

        // Running out of room also forces the suffix, in the last three slots.
        using var room = Generation.Greedy(lm, prompt, null, options with { StopIds = [], MaxNewTokens = 6 });
        Assert.True(room.Forced[0]);
        Assert.Equal(t[..3].Concat(suffix).ToArray(), room.Tokens[0]);
    }

    [Fact]
    public void GenerationLeavesNoLiveTensors()
    {
        using var lm = TinyModel(14);
        using var prompt = lm.Embed(tensor(new long[] { 1, 2, 3, 4 }).unsqueeze(0));
        var options = new GenerationOptions { MaxNewTokens = 6, RequiredIds = [300], ForcedSuffix = [300] };
        using (var warm = Generation.Greedy(lm, prompt, null, options)) { }
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 3; i++)
            using (var r = Generation.Greedy(lm, prompt, null, options with { UseCache = i % 2 == 0 })) { }
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
