using AgVas.Synthesis;
using System.Collections;
using System.Reflection;
using AgVas.Text;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace AgVas.Training;

/// <summary>A bad training config: one line naming the file, the line, the key and the problem.</summary>
public sealed class ConfigException(string path, string problem, Exception? inner = null) : AgVasException(path, problem, inner);

/// <summary>
/// Reads a <see cref="TrainingConfig"/> from YAML. Keys are snake_case (<c>warmup_steps</c>); an unknown key is an error
/// that lists the known ones (a typo never silently falls back to a default); a value of the wrong type and a value
/// out of range are errors naming the key path (<c>optim.lr</c>) and the line.
/// </summary>
public static class TrainingConfigLoader
{
    private static readonly INamingConvention Naming = UnderscoredNamingConvention.Instance;

    public static TrainingConfig Load(string path)
    {
        if (!File.Exists(path)) throw new ConfigException(path, "config file not found");
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Binds and validates YAML text; <paramref name="name"/> names it in errors.</summary>
    public static TrainingConfig Parse(string yaml, string name)
    {
        var keyAt = new Dictionary<(long Line, long Column), string>();
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new ConfigException(name, $"line {e.Start.Line}: not valid YAML: {Innermost(e)}", e);
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
            throw new ConfigException(name, "empty config");
        if (stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new ConfigException(name, $"line {stream.Documents[0].RootNode.Start.Line}: the config must be a mapping of keys to values");
        CheckKeys(root, typeof(TrainingConfig), "", name, keyAt);

        TrainingConfig config;
        try
        {
            config = new DeserializerBuilder().WithNamingConvention(Naming).WithEnforceNullability().Build()
                .Deserialize<TrainingConfig>(yaml) ?? throw new ConfigException(name, "empty config");
        }
        catch (YamlException e)
        {
            var key = keyAt.TryGetValue((e.Start.Line, e.Start.Column), out var k) ? k
                : keyAt.Where(kv => kv.Key.Line == e.Start.Line).Select(kv => kv.Value).FirstOrDefault();
            string where = key is null ? $"line {e.Start.Line}" : $"line {e.Start.Line}: {key}";
            throw new ConfigException(name, $"{where}: bad value: {Innermost(e)}", e);
        }
        var problems = Validate(config);
        if (problems.Count > 0) throw new ConfigException(name, string.Join("; ", problems));
        return config;
    }

    /// <summary>Every invariant the loop relies on; each problem names its key path.</summary>
    public static IReadOnlyList<string> Validate(TrainingConfig c)
    {
        var p = new List<string>();
        void Require(bool ok, string key, string problem) { if (!ok) p.Add($"{key}: {problem}"); }

        Require(c.Steps > 0, "steps", $"must be positive, got {c.Steps}");
        Require(!string.IsNullOrWhiteSpace(c.Model.Preset) || c.Model.Base is not null, "model.preset", "give a preset or model.base");
        Require(c.Model.Trainable is null or "paper" or "all", "model.trainable", $"must be paper or all, got '{c.Model.Trainable}'");
        Require(c.Model.InputSize is null || (c.Model.Base is not null && c.Model.InputSize > 0 && c.Model.InputSize % 32 == 0), "model.input_size",
            $"needs model.base and a positive multiple of 32 (the backbone's deepest stride), got {c.Model.InputSize}");
        Require(c.Data.Sources.Count > 0, "data.sources", "no training data: give at least one source (path or synth)");
        for (int i = 0; i < c.Data.Sources.Count; i++) ValidateSource(c.Data.Sources[i], $"data.sources[{i}]", Require);
        var pr = c.Data.PoolRatios;
        foreach (var (key, value) in new[] { ("anomaly_seg", pr.AnomalySeg), ("instruct", pr.Instruct), ("normal", pr.Normal), ("general", pr.General) })
            Require(value >= 0 && double.IsFinite(value), $"data.pool_ratios.{key}", $"must be a finite weight >= 0, got {value}");
        if (c.Data.Sources.Count > 0)
        {
            var used = c.Data.Sources.Select(s => DataSourceConfig.Pools.GetValueOrDefault(s.Pool)).Distinct().ToList();
            Require(used.Sum(p => p switch { MixturePool.AnomalySeg => pr.AnomalySeg, MixturePool.Instruct => pr.Instruct, MixturePool.Normal => pr.Normal, _ => pr.General }) > 0,
                "data.pool_ratios", "every pool that has a source has ratio 0");
        }
        if (c.Data.Validation is { } v) ValidateSource(v, "data.validation", Require);
        Require(c.Data.ValidationImages >= 0, "data.validation_images", $"must be >= 0, got {c.Data.ValidationImages}");
        var ratios = c.Data.InstructionRatios.Weights;
        foreach (var (type, weight) in ratios)
            Require(weight >= 0 && double.IsFinite(weight), $"data.instruction_ratios.{Naming.Apply(type.ToString())}", $"must be a finite weight >= 0, got {weight}");
        Require(ratios.Sum(r => r.Weight) > 0, "data.instruction_ratios", "all four weights are zero");

        var o = c.Optim;
        Require(o.Lr > 0 && double.IsFinite(o.Lr), "optim.lr", $"must be positive, got {o.Lr}");
        Require(o.WarmupSteps >= 0, "optim.warmup_steps", $"must be >= 0, got {o.WarmupSteps}");
        Require(o.Betas.Count == 2 && o.Betas.All(b => b is >= 0 and < 1), "optim.betas", $"must be two values in [0, 1), got [{string.Join(", ", o.Betas)}]");
        Require(o.Eps > 0, "optim.eps", $"must be positive, got {o.Eps}");
        Require(o.WeightDecay >= 0, "optim.weight_decay", $"must be >= 0, got {o.WeightDecay}");
        Require(o.GradClip >= 0, "optim.grad_clip", $"must be >= 0 (0 disables), got {o.GradClip}");
        Require(o.BatchSize > 0, "optim.batch_size", $"must be positive, got {o.BatchSize}");
        Require(o.GradAccum > 0, "optim.grad_accum", $"must be positive, got {o.GradAccum}");
        Require(o.EmaDecay == 0 || o.EmaDecay is > 0 and < 1, "optim.ema_decay", $"must be 0 (off) or in (0, 1), got {o.EmaDecay}");

        Require(c.Loss.TextWeight >= 0, "loss.text_weight", $"must be >= 0, got {c.Loss.TextWeight}");
        Require(c.Loss.BceWeight >= 0, "loss.bce_weight", $"must be >= 0, got {c.Loss.BceWeight}");
        Require(c.Loss.DiceWeight >= 0, "loss.dice_weight", $"must be >= 0, got {c.Loss.DiceWeight}");
        Require(c.Loss.HardBceWeight >= 0, "loss.hard_bce_weight", $"must be >= 0, got {c.Loss.HardBceWeight}");

        Require(!string.IsNullOrWhiteSpace(c.Output.Dir), "output.dir", "must not be empty");
        Require(c.Output.CheckpointEvery >= 0, "output.checkpoint_every", $"must be >= 0, got {c.Output.CheckpointEvery}");
        Require(c.Output.ValidateEvery >= 0, "output.validate_every", $"must be >= 0, got {c.Output.ValidateEvery}");
        Require(c.Output.KeepCheckpoints >= 1, "output.keep_checkpoints", $"must be >= 1, got {c.Output.KeepCheckpoints}");
        return p;
    }

    private static void ValidateSource(DataSourceConfig s, string key, Action<bool, string, string> require)
    {
        require((s.Path is null) != (s.Synth is null), key, "give exactly one of path or synth");
        require(DataSourceConfig.Pools.ContainsKey(s.Pool), $"{key}.pool", $"unknown pool '{s.Pool}' (known: {string.Join(", ", DataSourceConfig.Pools.Keys)})");
        require(s.Instruct is null || s.Pool == "instruct", $"{key}.instruct", "records only apply to a source in the instruct pool");
        if (s.Synth is { } y)
        {
            require(y.Count > 0, $"{key}.synth.count", $"must be positive, got {y.Count}");
            require(y.Size is >= 16 and <= 4096, $"{key}.synth.size", $"must be in [16, 4096], got {y.Size}");
            require(y.NormalRatio is >= 0 and <= 1, $"{key}.synth.normal_ratio", $"must be in [0, 1], got {y.NormalRatio}");
            require(y.ArtifactRatio is >= 0 and <= 1, $"{key}.synth.artifact_ratio", $"must be in [0, 1], got {y.ArtifactRatio}");
            foreach (var kind in y.Kinds ?? [])
                require(AnomalyKinds.TryParse(kind, out _), $"{key}.synth.kinds", AnomalyKinds.Unknown(kind));
        }
    }

    /// <summary>Walks the YAML against the record types: unknown keys are errors, and each value's position is recorded
    /// with its key path so that binding errors can name the key.</summary>
    private static void CheckKeys(YamlNode node, Type type, string path, string name, Dictionary<(long, long), string> keyAt)
    {
        var element = ElementType(type);
        if (element is not null)
        {
            if (node is YamlSequenceNode seq)
                for (int i = 0; i < seq.Children.Count; i++) CheckKeys(seq.Children[i], element, $"{path}[{i}]", name, keyAt);
            return;
        }
        if (node is not YamlMappingNode map || !IsRecord(type)) return;
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(pr => pr.CanWrite).ToDictionary(pr => Naming.Apply(pr.Name), StringComparer.Ordinal);
        foreach (var (keyNode, value) in map.Children)
        {
            var key = ((YamlScalarNode)keyNode).Value ?? "";
            var full = path.Length == 0 ? key : $"{path}.{key}";
            if (!properties.TryGetValue(key, out var property))
                throw new ConfigException(name, $"line {keyNode.Start.Line}: unknown key '{full}' (known{(path.Length == 0 ? "" : $" in '{path}'")}: {string.Join(", ", properties.Keys)})");
            keyAt[(value.Start.Line, value.Start.Column)] = full;
            keyAt.TryAdd((keyNode.Start.Line, keyNode.Start.Column), full);
            CheckKeys(value, Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType, full, name, keyAt);
        }
    }

    private static bool IsRecord(Type type) => type.Namespace == typeof(TrainingConfig).Namespace && type.IsClass;

    private static Type? ElementType(Type type) =>
        type != typeof(string) && type.IsGenericType && typeof(IEnumerable).IsAssignableFrom(type) ? type.GetGenericArguments()[0] : null;

    private static string Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        var message = e.Message;
        int paren = message.IndexOf("): ", StringComparison.Ordinal);
        return paren >= 0 && message.StartsWith('(') ? message[(paren + 3)..] : message;
    }
}
