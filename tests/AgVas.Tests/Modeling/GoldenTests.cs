using AgVas.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Tests.Modeling;

/// <summary>Each module against values computed independently by tools/golden/vision_golden.py (torch 1.13, float64).</summary>
public sealed class GoldenTests
{
    [Fact]
    public void SemanticEncoderMatchesSiglipFormulas()
    {
        using var f = new GoldenFixture("semantic_encoder");
        using var m = new SemanticEncoder(new SemanticEncoderConfig(HiddenSize: 32, IntermediateSize: 64, NumHiddenLayers: 2, NumAttentionHeads: 4, ImageSize: 32, PatchSize: 8));
        f.LoadInto(m);
        using var _ = no_grad();
        using var y = m.forward(f.Input("pixel_values"));
        GoldenFixture.AssertClose(f.Output("features"), y);
    }

    [Fact]
    public void ProjectorMatchesMlp2xGelu()
    {
        using var f = new GoldenFixture("projector");
        using var m = new Projector(new ProjectorConfig(32, 48));
        f.LoadInto(m);
        using var _ = no_grad();
        using var y = m.forward(f.Input("x"));
        GoldenFixture.AssertClose(f.Output("y"), y);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(30)]   // global layer (10×10 tokens) in bands of 3 rows, the last one short
    public void PixelEncoderMatchesSamVitWithPaddedWindowsAndRelativePositions(int queryChunk)
    {
        using var f = new GoldenFixture("pixel_encoder");
        var config = new PixelEncoderConfig(32, 3, 4, 64, [1], ImageSize: 80, PatchSize: 8, OutputChannels: 16, WindowSize: 4, AttentionQueryChunk: queryChunk);
        using var m = new PixelEncoder(config);
        f.LoadInto(m);
        using var _ = no_grad();
        using var y = m.forward(f.Input("pixel_values"));
        GoldenFixture.AssertClose(f.Output("features"), y);
    }

    [Fact]
    public void PositionEmbeddingRandomMatchesFourierFeatures()
    {
        using var f = new GoldenFixture("position_embedding_random");
        using var m = new PositionEmbeddingRandom(8);
        f.LoadInto(m);
        using var pe = m.Grid(5, 7);
        GoldenFixture.AssertClose(f.Output("pe"), pe);
    }

    [Fact]
    public void SpamMatchesCrossAttentionFormula()
    {
        using var f = new GoldenFixture("spam");
        using var m = new Spam(new SpamConfig(SemanticDim: 48, PixelDim: 16, Dim: 24, NumHeads: 4, PixelGridSize: 10));
        f.LoadInto(m);
        using var _ = no_grad();
        using var y = m.forward(f.Input("semantic"), f.Input("pixel"));
        GoldenFixture.AssertClose(f.Output("aligned"), y);
        Assert.Equal(f.Input("semantic").shape[1], y.shape[1]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TokenRefinerMatchesTwoLayerMlp(bool shared)
    {
        using var f = new GoldenFixture("token_refiner_" + (shared ? "shared" : "separate"));
        using var m = new TokenRefiner(new TokenRefinerConfig(48, 16, shared));
        f.LoadInto(m);
        using var _ = no_grad();
        using var y = m.forward(f.Input("anchors"));
        GoldenFixture.AssertClose(f.Output("refined"), y);
    }

    [Fact]
    public void TwoWayTransformerMatchesSamFormulas()
    {
        using var f = new GoldenFixture("two_way_transformer");
        using var m = new TwoWayTransformer(new AgmdConfig(HiddenSize: 32, NumHiddenLayers: 2, NumAttentionHeads: 4, MlpDim: 64, AttentionDownsampleRate: 2));
        f.LoadInto(m);
        using var _ = no_grad();
        var (tokens, image) = m.forward(f.Input("image"), f.Input("image_pe"), f.Input("tokens"));
        using (tokens)
        using (image)
        {
            GoldenFixture.AssertClose(f.Output("tokens"), tokens);
            GoldenFixture.AssertClose(f.Output("image"), image);
        }
    }

    [Fact]
    public void AgmdMatchesDecoderFormulasAndFusion()
    {
        using var f = new GoldenFixture("agmd");
        using var m = new Agmd(new AgmdConfig(HiddenSize: 32, NumHiddenLayers: 2, NumAttentionHeads: 4, MlpDim: 64, AttentionDownsampleRate: 2));
        f.LoadInto(m);
        using var _ = no_grad();
        using var y = m.forward(f.Input("pixel"), f.Input("anchors"));
        GoldenFixture.AssertClose(f.Output("logits"), y.Logits);
        GoldenFixture.AssertClose(f.Output("p_seg"), y.PSeg);
        GoldenFixture.AssertClose(f.Output("p_nor"), y.PNor);
        GoldenFixture.AssertClose(f.Output("p_ano"), y.PAno);
        GoldenFixture.AssertClose(f.Output("p"), y.P);
        Assert.Equal(new long[] { 2, 3, 32, 32 }, y.Logits.shape); // 8×8 embedding → 4× upscaled maps
        using var expectedMask = f.Output("p").gt(0.5);
        using var same = expectedMask.eq(y.Mask).all();
        Assert.True(same.item<bool>());
    }

    [Fact]
    public void SegmentationLossMatchesBceAndLisaDiceOnProbabilities()
    {
        using var f = new GoldenFixture("segmentation_loss");
        var loss = new SegmentationLoss(new SegmentationLossConfig());
        using var parts = loss.Compute(f.Input("logits"), f.Input("mask"));
        GoldenFixture.AssertClose(f.Output("total"), new LossWeights().Total(null, parts));
        GoldenFixture.AssertClose(f.Output("bce_seg"), parts.BceSeg);
        GoldenFixture.AssertClose(f.Output("bce_nor"), parts.BceNor);
        GoldenFixture.AssertClose(f.Output("bce_ano"), parts.BceAno);
        GoldenFixture.AssertClose(f.Output("dice_seg"), parts.DiceSeg);
        GoldenFixture.AssertClose(f.Output("dice_nor"), parts.DiceNor);
        GoldenFixture.AssertClose(f.Output("dice_ano"), parts.DiceAno);
    }

    [Fact]
    public void SamPreAndPostProcessingMatchReference()
    {
        using var f = new GoldenFixture("sam_transform");
        using var pre = SamImageTransform.PreProcess(f.Input("image"), 64);
        GoldenFixture.AssertClose(f.Output("pre"), pre);
        using var post = SamImageTransform.PostProcess(f.Input("maps"), 64, 45, 60);
        GoldenFixture.AssertClose(f.Output("post"), post);
        using var siglip = SamImageTransform.SiglipPreProcess(f.Input("image_siglip"), 32);
        GoldenFixture.AssertClose(f.Output("siglip_pre"), siglip);
    }
}
