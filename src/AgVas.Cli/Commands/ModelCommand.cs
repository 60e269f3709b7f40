using System.CommandLine;
using System.Text.Json;
using AgVas.Checkpoints;
using AgVas.Modeling;
using Spectre.Console;

namespace AgVas.Cli.Commands;

/// <summary>
/// <c>agvas model summary</c>: per-component parameter counts of a preset or of Hugging Face checkpoint directories,
/// computed from the configuration alone (no weights are allocated or read).
/// </summary>
internal static class ModelCommand
{
    public static Command Create()
    {
        var command = new Command("model", "Inspect model configurations and checkpoints");
        command.Subcommands.Add(CreateSummary());
        command.Subcommands.Add(CreateMakeTinyHf());
        command.Subcommands.Add(CreateInit());
        return command;
    }

    private static Command CreateInit()
    {
        var preset = new Option<string>("--preset") { Description = $"Preset: {string.Join(", ", AgVasConfig.PresetNames)}", Required = true };
        preset.AcceptOnlyFromAmong([.. AgVasConfig.PresetNames]);
        var output = new Option<string>("--out") { Description = "Model directory to write (model.safetensors, agvas_config.json, tokenizer.json)", Required = true };
        var seed = new Option<int>("--seed") { Description = "Random seed", DefaultValueFactory = _ => 0 };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "tokenizer.json to ship (e.g. LLaVA-OneVision's); default: the built-in tiny tokenizer" };
        var command = new Command("init", "Write a randomly initialised AG-VAS model in our model-directory format");
        command.Options.Add(preset);
        command.Options.Add(output);
        command.Options.Add(seed);
        command.Options.Add(tokenizer);
        command.SetAction(parse =>
        {
            var dir = parse.GetValue(output)!;
            try
            {
                var config = AgVasConfig.Preset(parse.GetValue(preset)!);
                var tokenizerPath = parse.GetValue(tokenizer);
                var tok = tokenizerPath is null ? Text.Qwen2Tokenizer.Tiny() : Text.Qwen2Tokenizer.Load(tokenizerPath);
                LlavaOnevisionCheckpoint.AddAnchors(tok, config.Llm.VocabSize, tokenizerPath ?? "tiny tokenizer");
                // The configuration records the shipped tokenizer's placeholder id.
                config = config with { ImageTokenId = tok.TokenToId(Text.ChatTemplate.ImageToken) ?? config.ImageTokenId };
                TorchSharp.torch.manual_seed(parse.GetValue(seed));
                using var model = new AgVasModel(config);
                AgVasModelDirectory.Save(dir, model, tok);
                Console.WriteLine($"wrote {Path.GetFullPath(dir)} ({model.parameters().Sum(p => p.numel()):N0} parameters)");
                return 0;
            }
            catch (Exception e) when (e is AgVasException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return PredictCommand.ExitError;
            }
        });
        return command;
    }

    private static Command CreateMakeTinyHf()
    {
        var layout = new Option<string>("--layout") { Description = "sam (SamModel) or llava-onevision (LlavaOnevisionForConditionalGeneration)", Required = true };
        layout.AcceptOnlyFromAmong("sam", "llava-onevision");
        var output = new Option<string>("--out") { Description = "Directory to write config.json and the safetensors into", Required = true };
        var seed = new Option<int>("--seed") { Description = "Random seed", DefaultValueFactory = _ => 0 };
        var shard = new Option<long?>("--max-shard-bytes") { Description = "Write sharded safetensors with model.safetensors.index.json, shards of at most this size" };
        var command = new Command("make-tiny-hf", "Write a tiny random checkpoint in a public Hugging Face layout (same tensor names and config.json keys)");
        command.Options.Add(layout);
        command.Options.Add(output);
        command.Options.Add(seed);
        command.Options.Add(shard);
        command.SetAction(parse =>
        {
            var dir = parse.GetValue(output)!;
            try
            {
                if (parse.GetValue(layout) == "sam") HuggingFaceVisionTinyCheckpoints.WriteSam(dir, parse.GetValue(seed), parse.GetValue(shard));
                else HuggingFaceVisionTinyCheckpoints.WriteLlavaOnevision(dir, parse.GetValue(seed), parse.GetValue(shard));
                Console.WriteLine($"wrote {Path.GetFullPath(dir)}");
                return 0;
            }
            catch (Exception e) when (e is AgVasException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"error: {dir}: {e.Message}");
                return PredictCommand.ExitError;
            }
        });
        return command;
    }

    private static Command CreateSummary()
    {
        var preset = new Option<string?>("--preset") { Description = $"A named preset: {string.Join(", ", VisionPresets.Names)} (with --model: the base for parts the checkpoints do not describe; default ov-0.5b)" };
        var model = new Option<string[]>("--model") { Description = "An AG-VAS model directory (agvas_config.json, e.g. models/agvas-tiny), or Hugging Face checkpoint directories with config.json (sam, llava_onevision, siglip; repeatable)", AllowMultipleArgumentsPerToken = true };
        var json = new Option<bool>("--json") { Description = "Print {\"components\": {name: {total, trainable}}, \"total\", \"trainable\"} as JSON" };
        var command = new Command("summary", "Per-component parameter counts (total and trainable) without allocating the weights");
        command.Options.Add(preset);
        command.Options.Add(model);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            var (stdout, stderr) = (parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
            var presetName = parse.GetValue(preset);
            var dirs = parse.GetValue(model) ?? [];
            if (presetName is null && dirs.Length == 0)
            {
                stderr.WriteLine("error: give --preset <name> or --model <dir>");
                return PredictCommand.ExitError;
            }
            try
            {
                var components = Summarise(presetName ?? "ov-0.5b", dirs);
                if (parse.GetValue(json)) stdout.WriteLine(ToJson(components));
                else PrintTable(PredictCommand.Console(stdout), components);
                return 0;
            }
            catch (Exception e) when (PredictCommand.IsUserError(e))
            {
                stderr.WriteLine($"error: {e.Message.ReplaceLineEndings(" ")}");
                return PredictCommand.ExitError;
            }
        });
        return command;
    }

    /// <summary>The component counts, one provider per side of the model.</summary>
    internal static IReadOnlyList<KeyValuePair<string, ParameterCount>> Summarise(string presetName, IReadOnlyList<string> modelDirs)
    {
        var ours = modelDirs.Where(d => File.Exists(Path.Combine(d, AgVasModelDirectory.ConfigFileName))).ToList();
        if (ours.Count > 0)
        {
            if (modelDirs.Count > 1)
                throw new CheckpointException(Path.Combine(ours[0], AgVasModelDirectory.ConfigFileName), "an AG-VAS model directory describes the whole model: give it alone to --model");
            var config = AgVasModelDirectory.CheckFiles(ours[0]);
            List<KeyValuePair<string, ParameterCount>> counts = [.. VisionParameterCounts.Compute(config.Vision), .. LlmParameterCounts.Compute(config.Llm, config.Lora)];
            // The header was checked; the tensors must also hold at least the parameters described (all but the frozen
            // ResNet-18 backbone, which comes from NuGet's ONNX file, not from model.safetensors).
            var weights = Path.Combine(ours[0], AgVasModelDirectory.WeightsFileName);
            using var source = TensorSource.Open(weights);
            long values = source.Names.Sum(n => source.Shape(n).Aggregate(1L, (a, d) => a * d));
            long parameters = counts.Where(c => c.Key != VisionParameterCounts.Backbone).Sum(c => c.Value.Total);
            if (values < parameters)
                throw new CheckpointException(weights, $"holds {values:N0} values, fewer than the {parameters:N0} parameters {AgVasModelDirectory.ConfigFileName} describes (weights of another model?)");
            return counts;
        }
        foreach (var d in modelDirs.Where(d => Directory.Exists(d) && !File.Exists(Path.Combine(d, LlavaOnevisionCheckpoint.ConfigFileName))))
            throw new CheckpointException(d, $"neither {AgVasModelDirectory.ConfigFileName} (an AG-VAS model directory) nor " +
                $"{LlavaOnevisionCheckpoint.ConfigFileName} (a Hugging Face checkpoint) in this directory");
        var baseConfig = VisionPresets.Get(presetName);
        var vision = HuggingFaceVisionConfigs.Compose(baseConfig, modelDirs.Select(d => HuggingFaceVisionConfigs.Read(d, baseConfig.Agmd)));
        var components = new List<KeyValuePair<string, ParameterCount>>();
        components.AddRange(VisionParameterCounts.Compute(vision));
        var llava = modelDirs.Select(d => Directory.Exists(d) ? Path.Combine(d, LlavaOnevisionCheckpoint.ConfigFileName) : d)
            .Where(f => File.Exists(f) && IsLlavaOnevision(f)).Select(LlavaOnevisionConfig.Load).FirstOrDefault();
        var llm = llava?.TextConfig ?? AgVasConfig.Preset(presetName).Llm;
        components.AddRange(LlmParameterCounts.Compute(llm, new LoraConfig()));
        return components;
    }

    private static bool IsLlavaOnevision(string configPath)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(configPath));
            return doc.RootElement.TryGetProperty("model_type", out var t) && t.GetString() == "llava_onevision";
        }
        catch (JsonException) { return false; }
    }

    internal static string ToJson(IReadOnlyList<KeyValuePair<string, ParameterCount>> components)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartObject("components");
            foreach (var (name, count) in components)
            {
                w.WriteStartObject(name);
                w.WriteNumber("total", count.Total);
                w.WriteNumber("trainable", count.Trainable);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteNumber("total", components.Sum(c => c.Value.Total));
            w.WriteNumber("trainable", components.Sum(c => c.Value.Trainable));
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void PrintTable(IAnsiConsole console, IReadOnlyList<KeyValuePair<string, ParameterCount>> components)
    {
        var table = new Table().AddColumn("component").AddColumn(new TableColumn("total").RightAligned()).AddColumn(new TableColumn("trainable").RightAligned());
        foreach (var (name, count) in components) table.AddRow(name, $"{count.Total:N0}", $"{count.Trainable:N0}");
        table.AddRow("[bold]all[/]", $"[bold]{components.Sum(c => c.Value.Total):N0}[/]", $"[bold]{components.Sum(c => c.Value.Trainable):N0}[/]");
        console.Write(table);
        console.MarkupLine("[grey]trainable: what the paper's policy trains in a loaded model (LoRA, heads, projector, the anchors' rows); " +
            "a training config with model.trainable: all trains every stored weight (see the model card)[/]");
    }
}
