using AgVas.Data;
using AgVas.Text;

namespace AgVas.Training;

/// <summary>A sampled example with its pixels loaded: the image, its mask (empty for a normal image) and the drawn
/// conversation (<see cref="Example"/>.Messages, the answer carrying the anchors).</summary>
public sealed record LoadedExample(RgbImage Image, BinaryMask Mask, Text.TrainingExample Example)
{
    public bool IsAnomalous => Example.Item.IsAnomalous;
}

/// <summary>
/// The training data stream: example k of the run is <see cref="ConversationMixture.Sample"/>(k) — pool by the pool
/// ratios, item, instruction type and conversation, all a pure function of (seed, k) — with its image and mask loaded.
/// The data position of a run is therefore just k: a resumed run sees exactly the examples the uninterrupted run
/// would have seen.
/// </summary>
public sealed class DataMixture(ConversationMixture mixture)
{
    public ConversationMixture Mixture { get; } = mixture;

    /// <summary>Example number <paramref name="position"/> of the run.</summary>
    public LoadedExample Example(long position)
    {
        var example = Mixture.Sample(position);
        var item = example.Item;
        var image = ImageIO.LoadRgb(item.ImagePath);
        var mask = item.MaskPaths.Count == 0
            ? new BinaryMask(image.Width, image.Height)
            : ImageIO.LoadMasks(item.MaskPaths, item.MaskRule, image.Width, image.Height, item.ImagePath);
        return new LoadedExample(image, mask, example);
    }

    /// <summary>Examples <paramref name="first"/> .. first + count − 1, loaded in parallel, in order.</summary>
    public IReadOnlyList<LoadedExample> Batch(long first, int count)
    {
        var batch = new LoadedExample[count];
        Parallel.For(0, count, i => batch[i] = Example(first + i));
        return batch;
    }
}
