using AgVas.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Tests.Modeling;

public class LlmWithAnchorsTests
{
    private static LlmWithAnchors Tiny(bool tied, int seed = 5)
    {
        manual_seed(seed);
        var llm = new LlmWithAnchors("llm", Qwen2Config.Tiny with { TieWordEmbeddings = tied }, new LoraConfig { Rank = 4, Dropout = 0 });
        llm.eval();
        return llm;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AnchorIdsUseTheAddedRows(bool tied)
    {
        using var scope = NewDisposeScope();
        var llm = Tiny(tied);
        int v = llm.Config.VocabSize;
        var ids = tensor(new long[] { 3, v, v + 1, v + 2 }).unsqueeze(0);                              // [1, 4]
        var emb = llm.Embed(ids);                                                                       // [1, 4, D]
        Qwen2GoldenFixture.AssertClose(llm.LanguageModel.Embed(ids[.., ..1]), emb[.., ..1], 0, "base row");
        Qwen2GoldenFixture.AssertClose(llm.AddedTokens.EmbedWeight.unsqueeze(0), emb[.., 1..], 0, "anchor rows");
        var hidden = randn(1, 2, llm.Config.HiddenSize);
        var logits = llm.Logits(hidden);                                                                // [1, 2, V + 3]
        Assert.Equal(v + 3, logits.shape[2]);
        var expected = matmul(hidden, llm.AddedTokens.HeadWeight.t());                                  // [1, 2, 3]
        Qwen2GoldenFixture.AssertClose(expected, logits[.., .., v..], 1e-6, "anchor logits");
        Assert.Equal(tied, ReferenceEquals(llm.AddedTokens.HeadWeight, llm.AddedTokens.EmbedWeight));
    }

    [Fact]
    public void InputSplicesVisualTokensAtThePlaceholderWithLeftPadding()
    {
        using var scope = NewDisposeScope();
        var llm = Tiny(true);
        const int image = 509;
        int[][] ids = [[1, 2, image, 3], [7, image, 8, 9, 10]];
        bool[][] target = [[false, false, false, true], [false, false, false, true, true]];
        var visual = randn(2, 6, llm.Config.HiddenSize);                                                // [B, N_v, D]
        using var input = LlmInput.Build(llm, ids, target, image, visual);
        Assert.Equal(new long[] { 2, 10, llm.Config.HiddenSize }, input.Embeds.shape);                   // S = max(3, 4) + 6
        Assert.Equal(new long[] { -1, 1, 2, -1, -1, -1, -1, -1, -1, 3 }, input.Ids[0].data<long>().ToArray());
        Assert.Equal(new long[] { 7, -1, -1, -1, -1, -1, -1, 8, 9, 10 }, input.Ids[1].data<long>().ToArray());
        Assert.Equal(new long[] { 0, 1, 1, 1, 1, 1, 1, 1, 1, 1 }, input.Mask[0].data<long>().ToArray());
        Assert.Equal(new[] { false, false, false, false, false, false, false, false, true, true }, input.Targets[1].data<bool>().ToArray());
        Qwen2GoldenFixture.AssertClose(visual[0], input.Embeds[0, 3..9], 0, "visual row 0");
        Qwen2GoldenFixture.AssertClose(visual[1], input.Embeds[1, 1..7], 0, "visual row 1");
        Qwen2GoldenFixture.AssertClose(llm.Embed(tensor(new long[] { 8, 9, 10 }).unsqueeze(0))[0], input.Embeds[1, 7..], 0, "text after");
        Assert.Throws<ArgumentException>(() => LlmInput.Build(llm, [[1, 2, 3]], null, image, visual[..1]));
    }

    [Fact]
    public void AnchorStatesAreTheStatesBeforeTheLastOccurrence()
    {
        using var scope = NewDisposeScope();
        // hidden[b, t, :] = 100·b + t, so a selected state tells its own position.
        var hidden = (arange(2).view(2, 1, 1) * 100 + arange(8).view(1, 8, 1)).to_type(ScalarType.Float32).expand(2, 8, 4); // [2, 8, 4]
        var ids = tensor(new long[] { 1, 50, 2, 51, 52, 50, 3, 4, /**/ 5, 6, 7, 50, 51, 8, 9, 52 }).view(2, 8);               // [2, 8]
        var states = LlmAnchorStates.Select(hidden, ids, [50, 51, 52]);                                                    // [2, 3, 4]
        Assert.Equal(new float[] { 4, 2, 3, 102, 103, 106 }, states[.., .., 0].flatten().data<float>().ToArray());
        // A missing anchor is an error, not a silent zero.
        Assert.Throws<ArgumentException>(() => LlmAnchorStates.Select(hidden, ids, [50, 60]));
    }

    [Fact]
    public void TextLossIsCrossEntropyOverTargetsOnly()
    {
        using var scope = NewDisposeScope();
        var llm = Tiny(false);
        int v = llm.Config.VocabSize;
        var ids = tensor(new long[] { 4, 9, 33, v, v + 1, v + 2, 11 }).unsqueeze(0);                   // [1, 7]
        var targets = tensor(new[] { false, false, true, true, true, true, false }).unsqueeze(0);       // [1, 7]
        var hidden = llm.Hidden(llm.Embed(ids), null, null, null);                                      // [1, 7, D]
        var loss = llm.TextLoss(hidden, ids, targets);
        var logits = llm.Logits(hidden)[0];                                                             // [7, V + 3]
        var logp = logits.log_softmax(-1);
        double expected = -(new[] { 2, 3, 4, 5 }.Select(t => logp[t - 1, ids[0, t].item<long>()].item<float>()).Average());
        Assert.Equal(expected, loss.item<float>(), 5);
    }

    [Fact]
    public void FrozenBaseLeavesOnlyAnchorRowsAndLoraTrainable()
    {
        using var scope = NewDisposeScope();
        var llm = Tiny(true);
        llm.train();
        foreach (var p in llm.LanguageModel.BaseParameters()) p.requires_grad = false;
        int v = llm.Config.VocabSize;
        var ids = tensor(new long[] { 4, 9, 33, v, v + 1, v + 2, 11 }).unsqueeze(0);
        var targets = tensor(new[] { false, false, true, true, true, true, false }).unsqueeze(0);
        // LoRA B starts at zero; nudge it so A also receives gradient.
        using (no_grad()) foreach (var p in llm.LanguageModel.AdapterParameters()) p.add_(0.01);
        var loss = llm.TextLoss(llm.Hidden(llm.Embed(ids), null, null, null), ids, targets);
        loss.backward();
        var trainable = llm.LanguageModel.AdapterParameters().Append(llm.AddedTokens.EmbedWeight).ToHashSet(ReferenceEqualityComparer.Instance);
        foreach (var (name, p) in llm.named_parameters())
        {
            bool hasGrad = p.grad is not null && p.grad.abs().sum().item<float>() > 0;
            Assert.True(trainable.Contains(p) == hasGrad, $"{name}: gradient {(hasGrad ? "present" : "absent")}");
        }
    }
}
