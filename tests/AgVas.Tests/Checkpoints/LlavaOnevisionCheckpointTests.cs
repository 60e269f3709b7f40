using AgVas.Checkpoints;
using AgVas.Modeling;
using AgVas.Text;
using static TorchSharp.torch;

namespace AgVas.Tests.Checkpoints;

public sealed class LlavaOnevisionCheckpointTests : IDisposable
{
    private readonly DirectoryInfo dir = Directory.CreateTempSubdirectory("agvas-llava-");

    public void Dispose() => dir.Delete(true);

    private static void AssertSameWeights(Qwen2ForCausalLM expected, Qwen2ForCausalLM actual, ScalarType roundTo)
    {
        var a = actual.state_dict();
        foreach (var (name, t) in expected.state_dict())
        {
            using var want = t.to_type(roundTo).to_type(ScalarType.Float32);
            Assert.True(want.allclose(a[name], 0, 0), $"{name} differs");
        }
    }

    [Theory]
    [InlineData(Qwen2Layout.LlavaLegacy, false, true)]
    [InlineData(Qwen2Layout.LlavaCurrent, false, false)]
    [InlineData(Qwen2Layout.LlavaLegacy, true, false)]
    [InlineData(Qwen2Layout.LlavaCurrent, true, true)]
    [InlineData(Qwen2Layout.Qwen2, false, true)]
    public void LoadsEveryLayoutSingleAndSharded(Qwen2Layout layout, bool sharded, bool tied)
    {
        using var scope = NewDisposeScope();
        var config = Qwen2Config.Tiny with { TieWordEmbeddings = tied };
        var written = LlavaOnevisionTinyCheckpoint.Write(dir.FullName, layout, config, sharded ? 600_000 : null);
        if (sharded) Assert.True(File.Exists(Path.Combine(dir.FullName, "model.safetensors.index.json")));
        var (llm, tokenizer, cfg) = LlavaOnevisionCheckpoint.LoadLanguage(dir.FullName, new LoraConfig());
        Assert.Equal(LlavaOnevisionTinyCheckpoint.ImageTokenId, cfg.ImagePlaceholderId);
        AssertSameWeights(written, llm.LanguageModel, ScalarType.Float32);
        Assert.Equal(config.VocabSize + 2, tokenizer.TokenToId(Anchors.Seg));
        Assert.Equal(LlavaOnevisionTinyCheckpoint.ImageTokenId, tokenizer.TokenToId(ChatTemplate.ImageToken));
    }

    [Fact]
    public void Bfloat16CheckpointsAreCastToFloat32()
    {
        using var scope = NewDisposeScope();
        var written = LlavaOnevisionTinyCheckpoint.Write(dir.FullName, Qwen2Layout.LlavaCurrent, Qwen2Config.Tiny, dtype: ScalarType.BFloat16);
        var (llm, _, _) = LlavaOnevisionCheckpoint.LoadLanguage(dir.FullName, null);
        Assert.All(llm.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        AssertSameWeights(written, llm.LanguageModel, ScalarType.BFloat16);
    }

    [Fact]
    public void EveryMissingUnexpectedOrMisShapedTensorIsReported()
    {
        using var scope = NewDisposeScope();
        var config = Qwen2Config.Tiny with { TieWordEmbeddings = false };
        var lm = new Qwen2ForCausalLM("lm", config);
        var tensors = lm.state_dict()
            .Where(kv => kv.Key != "model.layers.1.mlp.up_proj.weight")
            .Select(kv => new KeyValuePair<string, Tensor>("language_model." + kv.Key,
                kv.Key == "model.norm.weight" ? zeros(7) : kv.Value))
            .Append(new("language_model.model.layers.9.self_attn.q_proj.weight", zeros(2, 2)))
            .ToList();
        var path = Path.Combine(dir.FullName, "model.safetensors");
        SafeTensors.Write(path, tensors);
        using var source = TensorSource.Open(path);
        var e = Assert.Throws<CheckpointException>(() => Qwen2Checkpoint.Load(new Qwen2ForCausalLM("lm", config), source));
        Assert.StartsWith(path, e.Message);
        Assert.Contains("missing language_model.model.layers.1.mlp.up_proj.weight", e.Message);
        Assert.Contains("language_model.model.norm.weight has shape [7], expected [256]", e.Message);
        Assert.Contains("unexpected language_model.model.layers.9.self_attn.q_proj.weight", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TruncatedCheckpointIsRejectedNamingTheFile(bool sharded)
    {
        using var scope = NewDisposeScope();
        LlavaOnevisionTinyCheckpoint.Write(dir.FullName, Qwen2Layout.LlavaLegacy, Qwen2Config.Tiny, sharded ? 600_000 : null);
        var victim = Directory.GetFiles(dir.FullName, "*.safetensors").Order().Last();
        var bytes = File.ReadAllBytes(victim);
        File.WriteAllBytes(victim, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<CheckpointException>(() => LlavaOnevisionCheckpoint.LoadLanguage(dir.FullName, null));
        Assert.Contains(Path.GetFileName(victim), e.Message);
    }

    [Fact]
    public void MalformedConfigIsRejectedNamingTheFile()
    {
        LlavaOnevisionTinyCheckpoint.Write(dir.FullName, Qwen2Layout.LlavaLegacy, Qwen2Config.Tiny).Dispose();
        var config = Path.Combine(dir.FullName, "config.json");
        File.WriteAllText(config, "{\"model_type\": \"llava_onevision\", \"text_config\": {\"hidden_size\": 30, \"num_attention_heads\": 4");
        var e = Assert.Throws<CheckpointException>(() => LlavaOnevisionCheckpoint.LoadLanguage(dir.FullName, null));
        Assert.StartsWith(config + ":", e.Message);
        File.WriteAllText(config, "{\"model_type\": \"llava_onevision\", \"text_config\": {\"hidden_size\": 30, \"num_attention_heads\": 4}}");
        e = Assert.Throws<CheckpointException>(() => LlavaOnevisionCheckpoint.LoadLanguage(dir.FullName, null));
        Assert.Contains("NumAttentionHeads", e.Message);
    }
}
