using AgVas.Modeling;
using AgVas.Text;

namespace AgVas.Checkpoints;

/// <summary>The language side of a Hugging Face LLaVA-OneVision directory (<c>llava-onevision-qwen2-*-ov-hf</c>): config.json,
/// tokenizer.json and the LLM tensors of model.safetensors (single or sharded with model.safetensors.index.json).
/// The anchors are added to the vocabulary at ids V, V+1, V+2 (V = text_config.vocab_size), in answer order.</summary>
public static class LlavaOnevisionCheckpoint
{
    public const string ConfigFileName = "config.json";
    public const string TokenizerFileName = "tokenizer.json";

    /// <summary>Reads config.json and tokenizer.json and adds the anchors to the tokenizer.</summary>
    public static (LlavaOnevisionConfig Config, Qwen2Tokenizer Tokenizer) ReadLanguageFiles(string directory)
    {
        if (!Directory.Exists(directory)) throw new CheckpointException(directory, "no such directory");
        var config = LlavaOnevisionConfig.Load(Path.Combine(directory, ConfigFileName));
        var tokenizer = Qwen2Tokenizer.Load(Path.Combine(directory, TokenizerFileName));
        AddAnchors(tokenizer, config.TextConfig!.VocabSize, Path.Combine(directory, TokenizerFileName));
        return (config, tokenizer);
    }

    /// <summary>Adds the <see cref="Anchors"/> at ids V, V+1, V+2.</summary>
    public static void AddAnchors(Qwen2Tokenizer tokenizer, int vocabSize, string tokenizerPath)
    {
        if (tokenizer.Count > vocabSize && Anchors.Tokens.Any(a => tokenizer.TokenToId(a) is null))
            throw new TokenizerException(tokenizerPath, $"{tokenizer.Count} tokens do not fit the LLM's vocab_size {vocabSize}");
        try { tokenizer.AddSpecialTokens(Anchors.Tokens.Select((a, i) => (a, vocabSize + i))); }
        catch (ArgumentException e) { throw new TokenizerException(tokenizerPath, "cannot add the anchors: " + e.Message); }
    }

    /// <summary>Builds the LLM with anchors (and LoRA adapters when <paramref name="lora"/> is given) and loads its
    /// pretrained weights from the directory.</summary>
    public static (LlmWithAnchors Llm, Qwen2Tokenizer Tokenizer, LlavaOnevisionConfig Config) LoadLanguage(string directory, LoraConfig? lora)
    {
        var (config, tokenizer) = ReadLanguageFiles(directory);
        using var source = TensorSource.Open(directory);
        source.Validate();      // opens every shard: a truncated or inconsistent file fails here, naming itself
        var llm = new LlmWithAnchors("llm", config.TextConfig!, lora);
        try { Qwen2Checkpoint.Load(llm.LanguageModel, source); }
        catch
        {
            llm.Dispose();
            throw;
        }
        return (llm, tokenizer, config);
    }

    /// <summary>The whole AG-VAS model from public checkpoints: LLaVA-OneVision-hf (SigLIP, projector, Qwen2, tokenizer)
    /// and SAM (pixel encoder, mask decoder → AGMD). Sizes come from the two config.json files; what they do not describe
    /// (SPAM options, AGMD α/threshold, loss weights) from <paramref name="basePreset"/>. New modules (SPAM, refiner,
    /// anchor rows, LoRA, AGMD's output tokens) keep their random initialisation.</summary>
    public static (AgVasModel Model, Qwen2Tokenizer Tokenizer) LoadModel(string llavaDirectory, string samDirectory,
        string basePreset = "ov-0.5b", LoraConfig? lora = null)
    {
        var (config, tokenizer) = ReadLanguageFiles(llavaDirectory);
        var text = config.TextConfig!;
        var baseVision = VisionPresets.Get(basePreset);
        var vision = HuggingFaceVisionConfigs.Compose(baseVision,
            [HuggingFaceVisionConfigs.Read(llavaDirectory, baseVision.Agmd), HuggingFaceVisionConfigs.Read(samDirectory, baseVision.Agmd)])
            .WithLlm(text.HiddenSize, text.NumAttentionHeads);
        var model = new AgVasModel(new AgVasConfig(vision, text, lora ?? new LoraConfig(), config.ImagePlaceholderId));
        try
        {
            HuggingFaceVisionLoader.LoadLlavaOnevision(llavaDirectory, model.Vision);
            HuggingFaceVisionLoader.LoadSam(samDirectory, model.Vision);
            using var source = TensorSource.Open(llavaDirectory);
            source.Validate();
            Qwen2Checkpoint.Load(model.Llm.LanguageModel, source);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return (model, tokenizer);
    }
}
