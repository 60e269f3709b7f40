using AgVas.Modeling;
using AgVas.Text;

namespace AgVas.Training;

/// <summary>
/// Everything `agvas train` needs (docs/design.md §8), bound from YAML with snake_case keys by <see cref="TrainingConfigLoader"/>.
/// Defaults are the paper's / LISA's where they give one: AdamW lr 3e-4, betas (0.9, 0.95), 100 warm-up steps then
/// linear decay, gradient clip 1.0, λ_bce 0.5, λ_dice 2.0.
/// </summary>
public sealed record TrainingConfig
{
    public ModelSection Model { get; init; } = new();
    public DataSection Data { get; init; } = new();
    public OptimSection Optim { get; init; } = new();
    public LossWeights Loss { get; init; } = new();
    public OutputSection Output { get; init; } = new();
    /// <summary>Optimiser steps (each is <see cref="OptimSection.BatchSize"/> × <see cref="OptimSection.GradAccum"/> examples).</summary>
    public int Steps { get; init; } = 1000;
    /// <summary>Master seed: data order, instruction types, synthesis and torch's generator all derive from it.</summary>
    public ulong Seed { get; init; }
}

/// <summary>Which model to train: a named preset built fresh (tiny only: the others need their tokenizer and pretrained
/// weights, so make a model directory with <c>agvas model init</c> and give it as <see cref="Base"/>), or a base model directory.</summary>
public sealed record ModelSection
{
    /// <summary>A preset name (paper, ov-0.5b, tiny); ignored when <see cref="Base"/> is set.</summary>
    public string Preset { get; init; } = "tiny";
    /// <summary>A model directory (our format, e.g. from <c>agvas model init</c>) to start from; relative to the config file.
    /// The encoders' input sizes are the model's own (images are resized by the SAM / SigLIP pre-processing).</summary>
    public string? Base { get; init; }
    /// <summary>What trains: <c>paper</c> (docs/design.md §8: LoRA, anchor rows, SPAM, Token Refiner, AGMD; encoders, projector
    /// and LLM frozen, as suits pretrained weights) or <c>all</c> (every weight, as a model trained from scratch needs:
    /// frozen random encoders would feed the mask decoder random features). Default: <c>all</c> for a fresh
    /// <see cref="Preset"/>, <c>paper</c> when a <see cref="Base"/> is given.</summary>
    public string? Trainable { get; init; }
    /// <summary>For a ResNet-backbone <see cref="Base"/>: train at this input size instead of the model's own (the
    /// network is fully convolutional), with the inference-only settings (scales, mirroring) off; null = as saved.</summary>
    public int? InputSize { get; init; }

    /// <summary>Whether every weight trains (see <see cref="Trainable"/>).</summary>
    public bool TrainsEverything => (Trainable ?? (Base is null ? "all" : "paper")) == "all";
}

/// <summary>The training mixture (pools and their ratios), the instruction-type ratios and the held-out validation set.</summary>
public sealed record DataSection
{
    public List<DataSourceConfig> Sources { get; init; } = [];
    /// <summary>Relative weights of the pools (docs/design.md §8); pools without a source are skipped.</summary>
    public PoolRatios PoolRatios { get; init; } = new();
    /// <summary>Relative weights of the four instruction types (docs/design.md §8).</summary>
    public InstructionTypeRatios InstructionRatios { get; init; } = new();
    /// <summary>The validation set, or null for none.</summary>
    public DataSourceConfig? Validation { get; init; }
    /// <summary>At most this many validation images are scored (0 = all).</summary>
    public int ValidationImages { get; init; }
}

/// <summary>
/// One part of the mixture: a dataset on disk (<see cref="Path"/>: any layout <see cref="Data.Datasets.Load"/> reads) or
/// Anomaly-Seg synthesized for the run (<see cref="Synth"/>), in one of the pools of <see cref="MixturePool"/>.
/// </summary>
public sealed record DataSourceConfig
{
    public string? Name { get; init; }
    public string? Path { get; init; }
    public SynthSourceConfig? Synth { get; init; }
    /// <summary>The pool: anomaly_seg (default), instruct, normal or general.</summary>
    public string Pool { get; init; } = "anomaly_seg";
    /// <summary>Anomaly-Instruct records (<c>agvas curate</c> JSONL) for the instruct pool; none = curated at the start of the run.</summary>
    public string? Instruct { get; init; }
    /// <summary>The name in logs: <see cref="Name"/>, else the path, else "synth".</summary>
    public string DisplayName => Name ?? Path ?? (Synth is not null ? "synth" : "(unnamed)");

    public static IReadOnlyDictionary<string, MixturePool> Pools { get; } = new Dictionary<string, MixturePool>
    {
        ["anomaly_seg"] = MixturePool.AnomalySeg,
        ["instruct"] = MixturePool.Instruct,
        ["normal"] = MixturePool.Normal,
        ["general"] = MixturePool.General,
    };
}

/// <summary>Anomaly-Seg synthesized for the run (generated into the run directory at the start, deterministic per seed,
/// reused on resume) on procedural textures or on the normal images of <see cref="NormalsFrom"/>.</summary>
public sealed record SynthSourceConfig
{
    /// <summary>Number of samples.</summary>
    public int Count { get; init; } = 1000;
    public int Size { get; init; } = 256;
    public double NormalRatio { get; init; } = 0.2;
    /// <summary>A dataset whose normal images carry the defects, <c>scenes</c> (procedural objects on backgrounds) or
    /// <c>tissue</c> (procedural mucosa and skin);
    /// null or <c>procedural</c> = procedural textures.</summary>
    public string? NormalsFrom { get; init; }
    /// <summary>Anomaly kinds drawn (uniformly) by name, e.g. [lesion, stain]; null or empty = every kind.</summary>
    public List<string>? Kinds { get; init; }
    /// <summary>Fraction of samples that first get acquisition artifacts (aperture, frame, vignette, glare, overlay
    /// text; never in the mask): see <see cref="Synthesis.AcquisitionArtifacts"/>. 0 = none.</summary>
    public double ArtifactRatio { get; init; }
    /// <summary>Offset added to the master seed, so that validation and training synthesis differ.</summary>
    public ulong SeedOffset { get; init; }
}

/// <summary>Relative weights of the pools (defaults as <see cref="MixtureRatios"/>).</summary>
public sealed record PoolRatios
{
    public double AnomalySeg { get; init; } = 0.4;
    public double Instruct { get; init; } = 0.3;
    public double Normal { get; init; } = 0.15;
    public double General { get; init; } = 0.15;

    public MixtureRatios ToMixture() => new(AnomalySeg, Instruct, Normal, General);
}

/// <summary>Relative weights of the four instruction types (all zero is an error).</summary>
public sealed record InstructionTypeRatios
{
    public double DirectSegmentation { get; init; } = 1;
    public double DescribeThenSegment { get; init; } = 1;
    public double DescribeThenSegmentPlus { get; init; } = 1;
    public double SegmentThenExplain { get; init; } = 1;

    public IReadOnlyList<(InstructionType Type, double Weight)> Weights =>
    [
        (InstructionType.DirectSegmentation, DirectSegmentation),
        (InstructionType.DescribeThenSegment, DescribeThenSegment),
        (InstructionType.DescribeThenSegmentPlus, DescribeThenSegmentPlus),
        (InstructionType.SegmentThenExplain, SegmentThenExplain),
    ];

    public InstructionRatios ToText() => new(DirectSegmentation, DescribeThenSegment, DescribeThenSegmentPlus, SegmentThenExplain);
}

/// <summary>AdamW with LISA's schedule: <see cref="WarmupSteps"/> linear warm-up from 0, then linear decay to 0 at the last step.</summary>
public sealed record OptimSection
{
    public double Lr { get; init; } = 3e-4;
    public int WarmupSteps { get; init; } = 100;
    public List<double> Betas { get; init; } = [0.9, 0.95];
    public double Eps { get; init; } = 1e-8;
    public double WeightDecay { get; init; }
    /// <summary>Max global gradient L2 norm; 0 disables clipping.</summary>
    public double GradClip { get; init; } = 1.0;
    /// <summary>Examples per micro-step.</summary>
    public int BatchSize { get; init; } = 2;
    /// <summary>Micro-steps whose gradients are accumulated into one optimiser step.</summary>
    public int GradAccum { get; init; } = 1;
    /// <summary>Decay of an exponential moving average of the weights (<see cref="ExponentialMovingAverage"/>), which
    /// checkpoints keep and the final model and <c>train export</c> use; 0 = none (the paper).</summary>
    public double EmaDecay { get; init; }
}

/// <summary>What a checkpoint holds.</summary>
public enum CheckpointContent
{
    /// <summary>The trainable tensors only, plus a reference to the base model (small; the default).</summary>
    Trainable,
    /// <summary>Every tensor of the model.</summary>
    Full,
}

/// <summary>Where and how often the run writes.</summary>
public sealed record OutputSection
{
    /// <summary>Output directory (overridden by --out); relative to the config file.</summary>
    public string Dir { get; init; } = "runs/agvas";
    /// <summary>Write a resumable checkpoint every N steps (0 = only at the end).</summary>
    public int CheckpointEvery { get; init; } = 100;
    /// <summary>Run validation every N steps (0 = only at the end, and only when a validation set is given).</summary>
    public int ValidateEvery { get; init; }
    /// <summary>How many step checkpoints are kept (older ones are deleted); at least 1.</summary>
    public int KeepCheckpoints { get; init; } = 2;
    public CheckpointContent Save { get; init; } = CheckpointContent.Trainable;
}
