using AgVas.Data;
using AgVas.Synthesis;

namespace AgVas.Text;

/// <summary>The data pools of the AG-VAS training mixture (docs/design.md §8).</summary>
public enum MixturePool { AnomalySeg, Instruct, Normal, General }

/// <summary>Relative weights of the pools (normalised over the non-empty pools). Defaults (ours): 0.4 / 0.3 / 0.15 / 0.15.</summary>
public sealed record MixtureRatios(double AnomalySeg = 0.4, double Instruct = 0.3, double Normal = 0.15, double General = 0.15);

/// <summary>Relative weights of the instruction types. Defaults (ours): equal.</summary>
public sealed record InstructionRatios(double Direct = 0.25, double Describe = 0.25, double DescribePlus = 0.25, double SegmentThenExplain = 0.25)
{
    public double Weight(InstructionType t) => t switch
    {
        InstructionType.DirectSegmentation => Direct,
        InstructionType.DescribeThenSegment => Describe,
        InstructionType.DescribeThenSegmentPlus => DescribePlus,
        _ => SegmentThenExplain,
    };
}

/// <summary>One image with its mask files and what can be said about it: <see cref="Text"/> for anomaly data,
/// <see cref="Phrase"/> (the referred object) for general segmentation.</summary>
public sealed record TrainingItem(string ImagePath, IReadOnlyList<string> MaskPaths, MaskRule MaskRule, bool IsAnomalous,
    ConversationSource Text, string? Phrase = null)
{
    public static TrainingItem FromSample(Sample s, InstructRecord? record = null) =>
        new(s.ImagePath, s.MaskPaths, s.MaskRule, s.IsAnomalous, record is null ? new ConversationSource(s.Category, s.IsAnomalous) : ConversationSource.FromRecord(record));
}

/// <summary>A sampled training example: the item, its conversation and how it was drawn.</summary>
public sealed record TrainingExample(long Index, MixturePool Pool, InstructionType Type, TrainingItem Item, IReadOnlyList<ChatMessage> Messages);

/// <summary>Draws training examples from the pools by <see cref="MixtureRatios"/> and instruction types by
/// <see cref="InstructionRatios"/>. Example i is a pure function of (pools, ratios, seed, i). An item without curated
/// text can only be asked for Direct Segmentation: the type is then redrawn among the types it supports (here only
/// that one), so the realised type shares shift toward Direct when many items lack text. General items always use
/// the general-segmentation question.</summary>
public sealed class ConversationMixture
{
    private readonly IReadOnlyList<TrainingItem>[] _pools;
    private readonly double[] _poolWeights;
    private readonly InstructionRatios _types;
    private readonly ulong _seed;

    public ConversationMixture(IReadOnlyList<TrainingItem> anomalySeg, IReadOnlyList<TrainingItem> instruct, IReadOnlyList<TrainingItem> normal,
        IReadOnlyList<TrainingItem> general, MixtureRatios? ratios = null, InstructionRatios? types = null, ulong seed = 0)
    {
        ratios ??= new MixtureRatios();
        _types = types ?? new InstructionRatios();
        _pools = [anomalySeg, instruct, normal, general];
        double[] raw = [ratios.AnomalySeg, ratios.Instruct, ratios.Normal, ratios.General];
        if (raw.Any(w => !(w >= 0)) || !Enum.GetValues<InstructionType>().All(t => _types.Weight(t) >= 0))
            throw new ArgumentException("mixture and instruction-type ratios must be non-negative");
        if (Enum.GetValues<InstructionType>().Sum(_types.Weight) <= 0) throw new ArgumentException("instruction-type ratios must not all be zero");
        if (general.Any(g => string.IsNullOrWhiteSpace(g.Phrase))) throw new ArgumentException("every general-segmentation item needs a phrase", nameof(general));
        _poolWeights = raw.Select((w, i) => _pools[i].Count > 0 ? w : 0).ToArray();
        if (_poolWeights.Sum() <= 0) throw new ArgumentException("no non-empty pool has a positive ratio");
        _seed = seed;
    }

    /// <summary>The pool weights actually used (zero for empty pools), in <see cref="MixturePool"/> order.</summary>
    public IReadOnlyList<double> EffectivePoolWeights => _poolWeights;

    public TrainingExample Sample(long index)
    {
        var rng = new SynthRandom(SynthRandom.Derive(_seed, index));
        var pool = (MixturePool)rng.Pick(_poolWeights);
        var items = _pools[(int)pool];
        var item = items[rng.Next(items.Count)];
        if (pool == MixturePool.General)
            return new TrainingExample(index, pool, InstructionType.DirectSegmentation, item, Conversations.BuildGeneral(item.Phrase!, ref rng));
        var all = Enum.GetValues<InstructionType>();
        Span<double> weights = stackalloc double[all.Length];
        double total = 0;
        for (int k = 0; k < all.Length; k++) total += weights[k] = Conversations.Supports(all[k], item.Text) ? _types.Weight(all[k]) : 0;
        var type = total > 0 ? all[rng.Pick(weights)] : InstructionType.DirectSegmentation;
        return new TrainingExample(index, pool, type, item, Conversations.Build(type, item.Text, ref rng));
    }
}
