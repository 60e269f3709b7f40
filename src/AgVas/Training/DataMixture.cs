using AgVas.Data;
using AgVas.Text;

namespace AgVas.Training;

/// <summary>One labelled image of a training source.</summary>
public sealed record LabelledImage(RgbImage Image, BinaryMask Mask, string Category, string? Defect);

/// <summary>A part of the training mixture: <see cref="Count"/> items, item i a pure function of i (thread-safe).</summary>
public interface IExampleSource
{
    string Name { get; }
    int Count { get; }
    LabelledImage Load(int index);
}

/// <summary>A dataset on disk (any layout <see cref="Datasets.Load"/> reads): images with their ground-truth masks.</summary>
public sealed class DatasetSource : IExampleSource
{
    private readonly IReadOnlyList<Sample> samples;

    /// <summary>Reads the listing and checks every image and mask header (a bad file fails here, before training starts).</summary>
    public DatasetSource(string name, string path)
    {
        samples = Datasets.Load(path);
        Datasets.Validate(samples);
        Name = name;
    }

    public DatasetSource(string name, IReadOnlyList<Sample> samples)
    {
        if (samples.Count == 0) throw new DataException(name, "empty dataset: no images");
        this.samples = samples;
        Name = name;
    }

    public string Name { get; }
    public int Count => samples.Count;

    public LabelledImage Load(int index)
    {
        var s = samples[index];
        var image = ImageIO.LoadRgb(s.ImagePath);
        var mask = s.MaskPaths.Count == 0 ? new BinaryMask(image.Width, image.Height) : ImageIO.LoadMasks(s.MaskPaths, s.MaskRule, image.Width, image.Height, s.ImagePath);
        return new LabelledImage(image, mask, s.Category, s.Defect);
    }
}

/// <summary>
/// The training mixture (AGVAS.md §3): example k of the run comes from source j with probability w_j / Σw, is item
/// uniform in that source (sampling with replacement), and is rendered with an instruction type drawn by the
/// instruction ratios. Every choice is a pure function of (seed, k) (<see cref="StreamRandom"/>), so the data
/// position of a run is just k: a resumed run sees exactly the examples the uninterrupted run would have seen.
/// </summary>
public sealed class DataMixture
{
    private readonly IReadOnlyList<IExampleSource> sources;
    private readonly double[] weights;
    private readonly (InstructionType Type, double Weight)[] instructions;
    private readonly ulong seed;

    public DataMixture(IReadOnlyList<(IExampleSource Source, double Weight)> sources, InstructionRatios ratios, ulong seed)
    {
        if (sources.Count == 0) throw new ArgumentException("no training sources", nameof(sources));
        foreach (var (source, _) in sources)
            if (source.Count == 0) throw new DataException(source.Name, "empty training source: no images");
        this.sources = sources.Select(s => s.Source).ToArray();
        weights = sources.Select(s => s.Weight).ToArray();
        instructions = ratios.Weights.ToArray();
        this.seed = seed;
    }

    public IReadOnlyList<IExampleSource> Sources => sources;

    /// <summary>Example number <paramref name="position"/> of the run.</summary>
    public TrainingExample Example(long position)
    {
        int j = StreamRandom.Weighted(weights, seed, position, 0);
        var source = sources[j];
        int item = StreamRandom.Below(source.Count, seed, position, 1);
        var type = instructions[StreamRandom.Weighted(instructions.Select(i => i.Weight).ToArray(), seed, position, 2)].Type;
        var labelled = source.Load(item);
        return new TrainingExample(labelled.Image, labelled.Mask, type, labelled.Category, labelled.Defect, source.Name);
    }

    /// <summary>Examples <paramref name="first"/> .. first + count − 1, loaded in parallel, in order.</summary>
    public IReadOnlyList<TrainingExample> Batch(long first, int count)
    {
        var batch = new TrainingExample[count];
        Parallel.For(0, count, i => batch[i] = Example(first + i));
        return batch;
    }
}
