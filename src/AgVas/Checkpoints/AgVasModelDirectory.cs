using AgVas.Modeling;
using AgVas.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Checkpoints;

/// <summary>Our model format: one directory with <c>model.safetensors</c> (every parameter and persistent buffer of
/// <see cref="AgVasModel"/> by its state_dict name, float32), <c>agvas_config.json</c> (<see cref="AgVasConfig"/>) and
/// <c>tokenizer.json</c> (with the anchors). Each file is written atomically; loading is strict and bit-exact.</summary>
public static class AgVasModelDirectory
{
    public const string WeightsFileName = "model.safetensors";
    public const string ConfigFileName = "agvas_config.json";
    public const string TokenizerFileName = "tokenizer.json";
    private const int MaxListedProblems = 12;

    /// <param name="config">The configuration to write, default the model's; it may differ from it only in inference
    /// settings (the AGMD's α and thresholds, and a ResNet-backbone model's input size with the pixel grid that follows
    /// from it, its inference scales and mirroring: no weight depends on them), since the weights are the model's.</param>
    public static void Save(string directory, AgVasModel model, Qwen2Tokenizer tokenizer, AgVasConfig? config = null)
    {
        config ??= model.Config;
        var agmd = model.Config.Vision.Agmd;
        var vision = config.Vision with { Agmd = config.Vision.Agmd with { Alpha = agmd.Alpha, Threshold = agmd.Threshold, SeedThreshold = agmd.SeedThreshold } };
        if (vision.ResNet is { } resnet && model.Config.Vision.ResNet is { } trained)
            vision = vision with { ResNet = resnet with { ImageSize = trained.ImageSize, Scales = trained.Scales, Mirror = trained.Mirror }, Spam = vision.Spam with { PixelGridSize = model.Config.Vision.Spam.PixelGridSize } };
        var inferenceOnly = config with { Vision = vision };
        if (inferenceOnly.ToJson() != model.Config.ToJson())
            throw new ArgumentException("the configuration to write differs from the model's in more than its inference settings (AGMD thresholds, a ResNet model's input size, scales and mirroring)", nameof(config));
        config.Validate();
        Directory.CreateDirectory(directory);
        var tensors = model.state_dict().Select(kv => new KeyValuePair<string, Tensor>(kv.Key, kv.Value.detach()));
        SafeTensors.Write(Path.Combine(directory, WeightsFileName), tensors, new Dictionary<string, string> { ["format"] = "pt", ["agvas"] = "1" });
        AtomicFile.WriteAllText(Path.Combine(directory, ConfigFileName), config.ToJson());
        tokenizer.Save(Path.Combine(directory, TokenizerFileName));
    }

    /// <summary>Reads and validates the configuration; errors name <c>agvas_config.json</c>.</summary>
    public static AgVasConfig ReadConfig(string directory)
    {
        if (!Directory.Exists(directory)) throw new CheckpointException(directory, "no such model directory");
        var configPath = Path.Combine(directory, ConfigFileName);
        if (!File.Exists(configPath)) throw new CheckpointException(configPath, "not found (is this an AG-VAS model directory?)");
        var config = AgVasConfig.FromJson(File.ReadAllText(configPath), configPath);
        try { config.Validate(); }
        catch (ModelConfigException e) { throw new CheckpointException(configPath, e.Message); }
        return config;
    }

    /// <summary>Checks a model directory without building the model: the configuration, the tokenizer's presence and the
    /// weights file's header (every tensor's byte range inside the file, no overlap, known dtypes; nothing of the
    /// claimed sizes is allocated). Returns the configuration.</summary>
    public static AgVasConfig CheckFiles(string directory)
    {
        var config = ReadConfig(directory);
        var tokenizerPath = Path.Combine(directory, TokenizerFileName);
        if (!File.Exists(tokenizerPath)) throw new CheckpointException(tokenizerPath, "not found (every AG-VAS model directory has its tokenizer)");
        using var source = TensorSource.Open(Path.Combine(directory, WeightsFileName));
        source.Validate();
        return config;
    }

    /// <summary>Reads the configuration, builds the model and loads every tensor; errors name the offending file.
    /// <paramref name="adjust"/> may change settings that no weight depends on (e.g. a ResNet model's input size).</summary>
    public static (AgVasModel Model, Qwen2Tokenizer Tokenizer) Load(string directory, Func<AgVasConfig, AgVasConfig>? adjust = null)
    {
        var config = ReadConfig(directory);
        if (adjust is not null) config = adjust(config);
        var tokenizerPath = Path.Combine(directory, TokenizerFileName);
        var tokenizer = Qwen2Tokenizer.Load(tokenizerPath);
        LlavaOnevisionCheckpoint.AddAnchors(tokenizer, config.Llm.VocabSize, tokenizerPath);
        var model = new AgVasModel(config);
        try
        {
            using var source = TensorSource.Open(Path.Combine(directory, WeightsFileName));
            source.Validate();
            LoadStrict(model, source);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return (model, tokenizer);
    }

    /// <summary>Copies every state_dict tensor of <paramref name="module"/> from <paramref name="source"/>, after checking
    /// that none is missing, mis-shaped or of another dtype and that the file holds nothing else.</summary>
    public static void LoadStrict(nn.Module module, TensorSource source)
    {
        var state = module.state_dict();
        var problems = new List<string>();
        foreach (var (name, t) in state)
        {
            if (!source.Contains(name)) { problems.Add($"missing {name}"); continue; }
            var shape = source.Shape(name);
            if (!shape.SequenceEqual(t.shape))
                problems.Add($"{name} has shape [{string.Join(", ", shape)}], expected [{string.Join(", ", t.shape)}]");
        }
        problems.AddRange(source.Names.Where(n => !state.ContainsKey(n)).Order(StringComparer.Ordinal).Select(n => $"unexpected {n}"));
        if (problems.Count > 0)
            throw new CheckpointException(source.Path, $"{problems.Count} problem(s): " + string.Join("; ", problems.Take(MaxListedProblems)) +
                (problems.Count > MaxListedProblems ? $"; and {problems.Count - MaxListedProblems} more" : ""));
        using var guard = no_grad();
        foreach (var (name, t) in state)
        {
            using var loaded = source.Load(name);
            t.copy_(loaded);
        }
    }
}
