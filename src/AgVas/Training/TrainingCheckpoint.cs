using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using AgVas.Checkpoints;
using static TorchSharp.torch;

namespace AgVas.Training;

/// <summary>The run state a checkpoint records next to the tensors (<c>state.json</c>).</summary>
/// <param name="Step">Optimiser steps completed; training resumes at this step.</param>
/// <param name="ExamplesSeen">Data position: examples consumed so far (the next one is number ExamplesSeen).</param>
/// <param name="Seed">The run's master seed (the random state is a function of it and the position).</param>
/// <param name="Content">What <c>weights.safetensors</c> holds.</param>
/// <param name="Base">The base model directory the trainable tensors apply to, or null for a preset built fresh.</param>
/// <param name="Preset">The preset the model was built from.</param>
public sealed record CheckpointState(
    [property: JsonPropertyName("step")] int Step,
    [property: JsonPropertyName("examples_seen")] long ExamplesSeen,
    [property: JsonPropertyName("seed")] ulong Seed,
    [property: JsonPropertyName("content")] string Content,
    [property: JsonPropertyName("base")] string? Base,
    [property: JsonPropertyName("preset")] string Preset)
{
    public const int FormatVersion = 1;
    [JsonPropertyName("format_version")] public int Version { get; init; } = FormatVersion;
}

/// <summary>
/// Resumable checkpoints: <c>&lt;run&gt;/checkpoints/step-NNNNNN/</c> holds <c>weights.safetensors</c> (the trainable
/// tensors, or every tensor), <c>optimizer.safetensors</c> (AdamW's moments) and <c>state.json</c>
/// (<see cref="CheckpointState"/>). A checkpoint is written into a hidden temporary directory and renamed into place,
/// then <c>checkpoints/latest</c> is rewritten atomically to name it — a kill at any moment leaves the previous
/// checkpoint intact and pointed to.
/// </summary>
public static class TrainingCheckpoint
{
    public const string WeightsFile = "weights.safetensors";
    public const string OptimizerFile = "optimizer.safetensors";
    /// <summary>The weight average (<see cref="ExponentialMovingAverage"/>), keyed like the trainable weights; only when the run keeps one.</summary>
    public const string EmaFile = "ema.safetensors";
    public const string StateFile = "state.json";
    public const string LatestFile = "latest";
    private const string Prefix = "step-";

    public static string Directory(string runDir) => Path.Combine(runDir, "checkpoints");

    public static string StepName(int step) => $"{Prefix}{step.ToString("D6", CultureInfo.InvariantCulture)}";

    /// <summary>Writes the checkpoint of <paramref name="state"/> and deletes step checkpoints beyond the newest <paramref name="keep"/>.</summary>
    public static string Save(string runDir, ITrainableModel model, AdamW optimizer, CheckpointState state, int keep,
        ExponentialMovingAverage? ema = null)
    {
        var root = Directory(runDir);
        System.IO.Directory.CreateDirectory(root);
        // Temporary directories left by a run killed while writing.
        foreach (var stale in System.IO.Directory.EnumerateDirectories(root, ".step-*.tmp")) System.IO.Directory.Delete(stale, recursive: true);
        var name = StepName(state.Step);
        var final = Path.Combine(root, name);
        var tmp = Path.Combine(root, $".{name}.{Guid.NewGuid():N}.tmp");
        System.IO.Directory.CreateDirectory(tmp);
        try
        {
            var meta = new Dictionary<string, string> { ["content"] = state.Content, ["step"] = state.Step.ToString(CultureInfo.InvariantCulture) };
            SafeTensors.Write(Path.Combine(tmp, WeightsFile), Weights(model, state.Content == Content(CheckpointContent.Full)), meta);
            SafeTensors.Write(Path.Combine(tmp, OptimizerFile), optimizer.StateTensors(), meta);
            if (ema is not null) SafeTensors.Write(Path.Combine(tmp, EmaFile), ema.StateTensors(), meta);
            AtomicFile.WriteAllText(Path.Combine(tmp, StateFile), JsonSerializer.Serialize(state, JsonOptions));
            if (System.IO.Directory.Exists(final)) System.IO.Directory.Delete(final, recursive: true);
            System.IO.Directory.Move(tmp, final);
        }
        finally
        {
            if (System.IO.Directory.Exists(tmp)) System.IO.Directory.Delete(tmp, recursive: true);
        }
        AtomicFile.WriteAllText(Path.Combine(root, LatestFile), name + "\n");
        foreach (var old in StepDirectories(root).SkipLast(keep)) System.IO.Directory.Delete(old, recursive: true);
        return final;
    }

    /// <summary>The newest complete checkpoint of a run, or null when it has none.</summary>
    public static string? Latest(string runDir)
    {
        var root = Directory(runDir);
        var latest = Path.Combine(root, LatestFile);
        if (File.Exists(latest))
        {
            var name = File.ReadAllText(latest).Trim();
            var dir = Path.Combine(root, name);
            if (!name.StartsWith(Prefix, StringComparison.Ordinal) || name.Contains('/') || !System.IO.Directory.Exists(dir))
                throw new CheckpointException(latest, $"names checkpoint '{name}', which does not exist");
            return dir;
        }
        return System.IO.Directory.Exists(root) ? StepDirectories(root).LastOrDefault() : null;
    }

    /// <summary>Reads and checks <c>state.json</c>.</summary>
    public static CheckpointState ReadState(string checkpointDir)
    {
        var path = Path.Combine(checkpointDir, StateFile);
        if (!File.Exists(path)) throw new CheckpointException(path, "missing: not a complete training checkpoint");
        CheckpointState? state;
        try
        {
            state = JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(path), JsonOptions);
        }
        catch (JsonException e)
        {
            throw new CheckpointException(path, $"not a valid checkpoint state: {e.Message}", e);
        }
        if (state is null || state.Step < 0 || state.ExamplesSeen < 0 || state.Content is not ("trainable" or "full"))
            throw new CheckpointException(path, "not a valid checkpoint state (step, examples_seen or content out of range)");
        if (state.Version != CheckpointState.FormatVersion)
            throw new CheckpointException(path, $"format_version {state.Version}, this build reads {CheckpointState.FormatVersion}");
        return state;
    }

    /// <summary>Restores the model's tensors and the optimiser's state from a checkpoint; returns its run state.
    /// A truncated or corrupt file, or a tensor missing or mis-shaped, is a <see cref="CheckpointException"/> naming the file.</summary>
    public static CheckpointState Restore(string checkpointDir, ITrainableModel model, AdamW optimizer)
    {
        var state = RestoreWeights(checkpointDir, model);
        using (var opt = TensorSource.Open(Path.Combine(checkpointDir, OptimizerFile)))
        {
            opt.Validate();
            optimizer.LoadState(opt, state.Step);
        }
        return state;
    }

    /// <summary>Restores the weight average saved in a checkpoint into <paramref name="ema"/>; a checkpoint without one
    /// (written before the run kept an average) leaves it at the restored weights.</summary>
    public static void RestoreAverage(string checkpointDir, ExponentialMovingAverage ema)
    {
        if (HasAverage(checkpointDir)) CopyAverage(checkpointDir, ema.StateTensors());
    }

    /// <summary>Copies the checkpoint's weight average into <paramref name="targets"/> (named like the trainable weights).</summary>
    private static void CopyAverage(string checkpointDir, IEnumerable<KeyValuePair<string, Tensor>> targets)
    {
        using var averaged = TensorSource.Open(Path.Combine(checkpointDir, EmaFile));
        averaged.Validate();
        foreach (var (name, target) in targets) averaged.CopyInto(name, target, "weight average");
    }

    /// <summary>Whether the checkpoint holds a weight average.</summary>
    public static bool HasAverage(string checkpointDir) => File.Exists(Path.Combine(checkpointDir, EmaFile));

    /// <summary>Restores only the model's tensors (e.g. to export a checkpoint as a model directory); the model must be
    /// built as the run built it (same config and seed), since a <c>trainable</c> checkpoint holds only the trained tensors.
    /// With <paramref name="average"/> the trainable weights are then replaced by the checkpoint's weight average, when it has one.</summary>
    public static CheckpointState RestoreWeights(string checkpointDir, ITrainableModel model, bool average = false)
    {
        var state = ReadState(checkpointDir);
        using (var weights = TensorSource.Open(Path.Combine(checkpointDir, WeightsFile)))
        {
            weights.Validate();
            foreach (var (name, tensor) in Weights(model, state.Content == Content(CheckpointContent.Full)))
                weights.CopyInto(name, tensor, "weights");
        }
        if (average && HasAverage(checkpointDir))
            CopyAverage(checkpointDir, Weights(model, full: false));
        return state;
    }

    public static string Content(CheckpointContent content) => content == CheckpointContent.Full ? "full" : "trainable";

    private static IEnumerable<KeyValuePair<string, Tensor>> Weights(ITrainableModel model, bool full) =>
        full ? model.Module.state_dict() : model.TrainableParameters().Select(p => new KeyValuePair<string, Tensor>(p.Name, p.Parameter));

    private static IEnumerable<string> StepDirectories(string root) =>
        System.IO.Directory.EnumerateDirectories(root, Prefix + "*")
            .Where(d => File.Exists(Path.Combine(d, StateFile)))
            .Order(StringComparer.Ordinal);

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };
}
