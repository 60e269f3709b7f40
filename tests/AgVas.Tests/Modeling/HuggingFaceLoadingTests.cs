using AgVas.Checkpoints;
using AgVas.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Tests.Modeling;

/// <summary>Loading tiny random checkpoints written in the public SAM and LLaVA-OneVision layouts.</summary>
public sealed class HuggingFaceLoadingTests : IDisposable
{
    private readonly DirectoryInfo dir = Directory.CreateTempSubdirectory("agvas-hf-");

    public void Dispose() => dir.Delete(recursive: true);

    private string Sub(string name) => Path.Combine(dir.FullName, name);

    private static VisionSide BuildFor(params string[] checkpoints)
    {
        var config = HuggingFaceVisionConfigs.Compose(VisionPresets.Tiny, checkpoints.Select(c => HuggingFaceVisionConfigs.Read(c)));
        return VisionBuilder.Build(config);
    }

    private static void AssertSame(TensorSource source, string checkpointName, nn.Module module, string moduleName)
    {
        using var expected = source.Load(checkpointName);
        using var e32 = expected.to(float32);
        var actual = module.state_dict()[moduleName];
        Assert.True(e32.equal(actual).all().item<bool>(), $"{moduleName} differs from {checkpointName}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SamCheckpointLoadsThePixelEncoderAndInitialisesAgmd(bool sharded)
    {
        var sam = Sub("sam");
        HuggingFaceVisionTinyCheckpoints.WriteSam(sam, seed: 3, maxShardBytes: sharded ? 40_000 : null);
        if (sharded) Assert.True(File.Exists(Path.Combine(sam, TensorSource.IndexFileName)));
        using var side = BuildFor(sam);
        using var tokensBefore = side.Agmd.state_dict()["output_tokens.weight"].clone();
        HuggingFaceVisionLoader.LoadSam(sam, side);

        using var source = TensorSource.Open(sam);
        AssertSame(source, "vision_encoder.pos_embed", side.PixelEncoder, "pos_embed");
        AssertSame(source, "vision_encoder.layers.1.attn.rel_pos_w", side.PixelEncoder, "layers.1.attn.rel_pos_w");
        AssertSame(source, "vision_encoder.neck.conv2.weight", side.PixelEncoder, "neck.conv2.weight");
        AssertSame(source, "mask_decoder.transformer.layers.1.cross_attn_image_to_token.v_proj.weight", side.Agmd, "transformer.layers.1.cross_attn_image_to_token.v_proj.weight");
        AssertSame(source, "mask_decoder.transformer.layer_norm_final_attn.bias", side.Agmd, "transformer.layer_norm_final_attn.bias");
        AssertSame(source, "mask_decoder.upscale_layer_norm.weight", side.Agmd, "upscale_layer_norm.weight");
        AssertSame(source, "mask_decoder.output_hypernetworks_mlps.2.layers.0.weight", side.Agmd, "output_hypernetworks_mlps.2.layers.0.weight");
        AssertSame(source, "shared_image_embedding.positional_embedding", side.Agmd, "pe_layer.positional_embedding");
        AssertSame(source, "shared_image_embedding.positional_embedding", side.Spam, "pe_layer.positional_embedding");
        AssertSame(source, "prompt_encoder.no_mask_embed.weight", side.Agmd, "no_mask_embed.weight");
        Assert.True(tokensBefore.equal(side.Agmd.state_dict()["output_tokens.weight"]).all().item<bool>(), "AGMD's new output tokens must stay fresh");

        using var _ = no_grad();
        using var fp = side.PixelEncoder.forward(randn(1, 3, 64, 64));
        Assert.Equal(new long[] { 1, 32, 8, 8 }, fp.shape);
        using var output = side.Agmd.forward(fp, randn(1, 3, 32));
        Assert.Equal(new long[] { 1, 3, 32, 32 }, output.Logits.shape);
    }

    [Fact]
    public void ShardedLlavaOnevisionCheckpointLoadsTheSemanticEncoderAndProjector()
    {
        var llava = Sub("llava");
        HuggingFaceVisionTinyCheckpoints.WriteLlavaOnevision(llava, seed: 4, maxShardBytes: 20_000);
        Assert.True(File.Exists(Path.Combine(llava, TensorSource.IndexFileName)));
        using var side = BuildFor(llava);
        Assert.Equal(48, side.Config.Projector.OutputSize);
        HuggingFaceVisionLoader.LoadLlavaOnevision(llava, side);

        using var source = TensorSource.Open(llava);
        Assert.True(source.Names.Select(n => source.Entry(n).Dtype).Distinct().Single() == SafeTensorsDtype.F16);
        AssertSame(source, "vision_tower.vision_model.embeddings.position_embedding.weight", side.SemanticEncoder, "embeddings.position_embedding.weight");
        AssertSame(source, "vision_tower.vision_model.encoder.layers.1.mlp.fc2.weight", side.SemanticEncoder, "encoder.layers.1.mlp.fc2.weight");
        AssertSame(source, "vision_tower.vision_model.encoder.layers.0.self_attn.out_proj.bias", side.SemanticEncoder, "encoder.layers.0.self_attn.out_proj.bias");
        AssertSame(source, "multi_modal_projector.linear_2.weight", side.Projector, "linear_2.weight");

        using var _ = no_grad();
        using var features = side.SemanticEncoder.forward(randn(1, 3, 32, 32));
        using var fs = side.Projector.forward(features);
        Assert.Equal(new long[] { 1, 16, 48 }, fs.shape);
    }

    [Fact]
    public void MissingUnexpectedAndMisshapedTensorsAreAllReportedByName()
    {
        var good = Sub("good");
        var bad = Sub("bad");
        HuggingFaceVisionTinyCheckpoints.WriteSam(good, seed: 5);
        var tensors = new List<KeyValuePair<string, Tensor>>();
        using (var file = SafeTensorsFile.Open(Path.Combine(good, TensorSource.SingleFileName)))
        {
            foreach (var name in file.Entries.Keys)
            {
                if (name == "vision_encoder.layers.1.attn.rel_pos_w") continue;
                tensors.Add(new(name, name == "mask_decoder.upscale_conv1.bias" ? zeros(7) : file.Load(name)));
            }
        }
        tensors.Add(new("mask_decoder.surprise.weight", zeros(2)));
        Directory.CreateDirectory(bad);
        SafeTensors.Write(Path.Combine(bad, TensorSource.SingleFileName), tensors);
        File.Copy(Path.Combine(good, "config.json"), Path.Combine(bad, "config.json"));
        foreach (var kv in tensors) kv.Value.Dispose();

        using var side = BuildFor(bad);
        var e = Assert.Throws<CheckpointMismatchException>(() => HuggingFaceVisionLoader.LoadSam(bad, side));
        Assert.Equal(["vision_encoder.layers.1.attn.rel_pos_w"], e.Missing);
        Assert.Equal(["mask_decoder.surprise.weight"], e.Unexpected);
        Assert.Equal(["mask_decoder.upscale_conv1.bias: checkpoint [7] vs model [8]"], e.Misshaped);
        Assert.Contains("rel_pos_w", e.Message);
        Assert.Contains(bad, e.Message);
    }

    [Fact]
    public void ALlavaCheckpointIsNotASamCheckpoint()
    {
        var llava = Sub("llava2");
        HuggingFaceVisionTinyCheckpoints.WriteLlavaOnevision(llava, seed: 6, maxShardBytes: null);
        using var side = VisionBuilder.Build(VisionPresets.Tiny);
        var e = Assert.Throws<CheckpointMismatchException>(() => HuggingFaceVisionLoader.LoadSam(llava, side));
        Assert.Contains("vision_encoder.pos_embed", e.Missing);
        Assert.Contains("mask_decoder.upscale_conv1.weight", e.Missing);
    }
}
