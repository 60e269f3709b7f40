using AgVas.Modeling;
using System.Text.Json.Nodes;
using AgVas.Checkpoints;
using AgVas.Text;
using static TorchSharp.torch;

namespace AgVas.Tests.Checkpoints;

/// <summary>The whole model from tiny public-layout checkpoints (LLaVA-OneVision-hf sharded in f16, SAM single file).</summary>
public sealed class LlavaOnevisionModelLoadTests : IDisposable
{
    private readonly DirectoryInfo dir = Directory.CreateTempSubdirectory("agvas-hf-model-");

    public void Dispose() => dir.Delete(true);

    /// <summary>A minimal byte-level tokenizer.json for the 64-token tiny LLM: 62 BPE tokens, &lt;image&gt; = 62, &lt;video&gt; = 63.</summary>
    private static void WriteTokenizer(string path)
    {
        var vocab = new JsonObject();
        for (int i = 0; i < 61; i++) vocab[((char)('!' + i)).ToString()] = i;
        vocab["!\""] = 61;
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(
                new JsonObject { ["id"] = 62, ["content"] = "<image>", ["special"] = true },
                new JsonObject { ["id"] = 63, ["content"] = "<video>", ["special"] = true }),
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel" },
            ["model"] = new JsonObject { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = new JsonArray("! \"") },
        };
        File.WriteAllText(path, root.ToJsonString());
    }

    [Fact]
    public void LoadsVisionLanguageAndTokenizerFromPublicLayouts()
    {
        using var scope = NewDisposeScope();
        var llava = Path.Combine(dir.FullName, "llava");
        var sam = Path.Combine(dir.FullName, "sam");
        HuggingFaceVisionTinyCheckpoints.WriteLlavaOnevision(llava, seed: 1);
        HuggingFaceVisionTinyCheckpoints.WriteSam(sam, seed: 2, maxShardBytes: null);
        WriteTokenizer(Path.Combine(llava, "tokenizer.json"));
        Assert.True(File.Exists(Path.Combine(llava, TensorSource.IndexFileName)));

        var (model, tokenizer) = LlavaOnevisionCheckpoint.LoadModel(llava, sam, basePreset: "tiny");
        using var _ = model;
        Assert.Equal(48, model.Config.Llm.HiddenSize);
        Assert.Equal(62, model.Config.ImageTokenId);
        Assert.Equal(64 + 2, tokenizer.TokenToId(Anchors.Seg));
        using var source = TensorSource.Open(llava);
        var state = model.state_dict();
        foreach (var (ours, theirs) in new[]
        {
            ("llm.language_model.model.layers.1.self_attn.k_proj.bias", "language_model.model.layers.1.self_attn.k_proj.bias"),
            ("llm.language_model.lm_head.weight", "language_model.lm_head.weight"),
        })
        {
            using var expected = source.Load(theirs).to_type(ScalarType.Float32);
            Assert.True(expected.allclose(state[ours], 0, 0), ours);
        }
        Assert.Equal(48, model.Vision.Config.Projector.OutputSize);
    }
}
