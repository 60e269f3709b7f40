using AgVas.Modeling;
using AgVas.Data;
using AgVas.Synthesis;
using AgVas.Text;

namespace AgVas.Training;

/// <summary>Turns a <see cref="TrainingConfig"/> into the objects the loop runs on. Paths in the config are relative to
/// the config file's folder; data made for the run (synthesized sets, curated records) goes to <c>&lt;run&gt;/data</c>
/// and is reused when it is already there (resume).</summary>
public static class TrainingSetup
{
    public const string DataDirectory = "data";

    public static string Resolve(string configDir, string path) => Path.GetFullPath(Path.Combine(configDir, path));

    /// <summary>The run directory: <paramref name="outOverride"/> (--out, relative to the working directory) or output.dir.</summary>
    public static string RunDirectory(TrainingConfig config, string configDir, string? outOverride) =>
        outOverride is not null ? Path.GetFullPath(outOverride) : Resolve(configDir, config.Output.Dir);

    /// <summary>The training stream: each source's samples in its pool, drawn by the pool and instruction-type ratios.
    /// Every dataset is listed and its files' headers checked first, so a bad or empty dataset fails before training.</summary>
    public static DataMixture Mixture(TrainingConfig config, string configDir, string runDir)
    {
        var pools = Enum.GetValues<MixturePool>().ToDictionary(p => p, _ => new List<TrainingItem>());
        for (int i = 0; i < config.Data.Sources.Count; i++)
        {
            var source = config.Data.Sources[i];
            var key = $"data.sources[{i}]";
            var samples = Samples(source, configDir, config.Seed, Path.Combine(runDir, DataDirectory, $"source{i}"), key);
            var pool = DataSourceConfig.Pools[source.Pool];
            pools[pool].AddRange(pool switch
            {
                MixturePool.Instruct => InstructItems(source, samples, configDir, config.Seed, Path.Combine(runDir, DataDirectory, $"source{i}_instruct.jsonl")),
                MixturePool.General => samples.Select(s => TrainingItem.FromSample(s) with { Phrase = InstructCurator.HumaniseCategory(s.Category) }),
                _ => samples.Select(s => TrainingItem.FromSample(s)),
            });
        }
        return new DataMixture(new ConversationMixture(pools[MixturePool.AnomalySeg], pools[MixturePool.Instruct], pools[MixturePool.Normal],
            pools[MixturePool.General], config.Data.PoolRatios.ToMixture(), config.Data.InstructionRatios.ToText(), config.Seed));
    }

    /// <summary>The samples of one source: a dataset read from disk, or a synthesized set written into <paramref name="synthDir"/>.</summary>
    public static IReadOnlyList<Sample> Samples(DataSourceConfig source, string configDir, ulong seed, string synthDir, string key)
    {
        IReadOnlyList<Sample> samples = source.Path is { } path
            ? Datasets.Load(Resolve(configDir, path))
            : Synthesize(source.Synth ?? throw new ConfigException(key, "give a path or synth"), configDir, seed, synthDir);
        Datasets.Validate(samples);
        return samples;
    }

    /// <summary>Writes a synthesized Anomaly-Seg set (MVTec layout + manifest.csv) unless its manifest exists; returns its samples.</summary>
    public static IReadOnlyList<Sample> Synthesize(SynthSourceConfig config, string configDir, ulong seed, string outDir)
    {
        var manifest = Path.Combine(outDir, "manifest.csv");
        if (!File.Exists(manifest))
        {
            var normals = NormalSources.Resolve(config.NormalsFrom ?? "procedural", configDir);
            var synthesizer = new AnomalySynthesizer([normals], new SynthesisOptions(Size: config.Size, NormalRatio: config.NormalRatio,
                Kinds: config.Kinds?.Select(AnomalyKinds.Parse).ToList(),
                Seed: seed + config.SeedOffset, ArtifactRatio: config.ArtifactRatio));
            AnomalySegWriter.Write(synthesizer, config.Count, outDir, Environment.ProcessorCount);
        }
        return Datasets.Load(manifest);
    }

    /// <summary>Instruct-pool items: samples joined with their Anomaly-Instruct records (read from source.instruct, or
    /// curated now into <paramref name="curatedPath"/>). A sample without a record can only be asked for Direct Segmentation.</summary>
    private static IEnumerable<TrainingItem> InstructItems(DataSourceConfig source, IReadOnlyList<Sample> samples, string configDir, ulong seed, string curatedPath)
    {
        IReadOnlyList<InstructRecord> records;
        string recordsDir;
        if (source.Instruct is { } given)
        {
            var path = Resolve(configDir, given);
            records = InstructJsonl.Read(path);
            recordsDir = Path.GetDirectoryName(path)!;
        }
        else if (File.Exists(curatedPath))
        {
            records = InstructJsonl.Read(curatedPath);
            recordsDir = Path.GetDirectoryName(curatedPath)!;
        }
        else
        {
            records = InstructJsonl.Curate(samples, curatedPath, seed, Environment.ProcessorCount);
            InstructJsonl.Write(records, curatedPath);
            recordsDir = Path.GetDirectoryName(curatedPath)!;
        }
        var byImage = new Dictionary<string, InstructRecord>(StringComparer.Ordinal);
        foreach (var r in records) byImage.TryAdd(Resolve(recordsDir, r.Image), r);
        return samples.Select(s => TrainingItem.FromSample(s, byImage.GetValueOrDefault(Path.GetFullPath(s.ImagePath))));
    }

    /// <summary>The validation samples (a dataset, or a synthesized set in <c>&lt;run&gt;/data/validation</c> pooled into one
    /// category), at most data.validation_images.</summary>
    public static IReadOnlyList<Sample> ValidationSamples(TrainingConfig config, string configDir, string runDir)
    {
        var v = config.Data.Validation ?? throw new ArgumentException("no validation set configured", nameof(config));
        var samples = Samples(v, configDir, config.Seed, Path.Combine(runDir, DataDirectory, "validation"), "data.validation");
        // A synthesized set's "categories" are procedural textures of one or two images each: score it as one pooled category.
        if (v.Synth is not null) samples = samples.Select(s => s with { Category = "synth" }).ToList();
        return config.Data.ValidationImages > 0 ? samples.Take(config.Data.ValidationImages).ToList() : samples;
    }

    /// <summary>The validator of data.validation, or null when the config has no validation set.</summary>
    public static ITrainingValidator? Validator(TrainingConfig config, string configDir, string runDir) =>
        config.Data.Validation is null ? null : new SegmentationValidator(ValidationSamples(config, configDir, runDir), runDir);

    /// <summary>Loads model.base, or builds model.preset with random weights seeded by the run's seed; unfreezes every
    /// weight when model.trainable is <c>all</c>.</summary>
    public static AgVasTrainingModel CreateModel(TrainingConfig config, string configDir)
    {
        var model = CreateBase(config, configDir);
        if (config.Model.TrainsEverything) model.Model.TrainEverything();
        return model;
    }

    /// <summary>A ResNet-backbone configuration trained at <paramref name="size"/> px: the input size and the pixel grid
    /// follow it, and the inference-only settings (several scales, mirroring) are off.</summary>
    private static AgVasConfig AtInputSize(AgVasConfig c, int size)
    {
        var resnet = c.Vision.ResNet ?? throw new ConfigException("model.input_size", "applies to ResNet-backbone models only (the ViT presets have fixed position embeddings)");
        resnet = resnet with { ImageSize = size, Scales = null, Mirror = false };
        return c with { Vision = c.Vision with { ResNet = resnet, Spam = c.Vision.Spam with { PixelGridSize = resnet.GridSize } } };
    }

    private static AgVasTrainingModel CreateBase(TrainingConfig config, string configDir)
    {
        if (config.Model.Base is { } path)
            return AgVasTrainingModel.Load(Resolve(configDir, path), adjust: config.Model.InputSize is { } size ? c => AtInputSize(c, size) : null);
        try
        {
            return AgVasTrainingModel.Create(config.Model.Preset, (long)(config.Seed & long.MaxValue));
        }
        catch (Modeling.ModelConfigException e)
        {
            throw new ConfigException("model.preset", e.Problem, e);
        }
    }
}
