using System.Reflection;
using AgVas.Checkpoints;
using AgVas.Data;
using AgVas.Text;

namespace AgVas.Inference;

/// <summary>
/// The library entry point for C# callers: load a model once (<see cref="Load"/>, <see cref="LoadDefault"/>), then segment
/// images given as a file, a stream or an <see cref="RgbImage"/>, each call returning one <see cref="Prediction"/>.
/// <para>
/// Thread safety: any number of threads may call the <c>Segment</c> methods at once. Decoding runs in parallel on the
/// callers' threads; the model itself runs under one lock, one image at a time, because a forward pass already uses
/// every core through libtorch's intra-op threads, and the model's modules are shared mutable state. Results are
/// identical to sequential calls.
/// </para>
/// </summary>
/// <param name="model">The model; disposed with the segmenter when <paramref name="ownsModel"/> (and disposable).</param>
/// <param name="defaultMode">The instruction type of calls that give none.</param>
/// <param name="ownsModel">Whether <see cref="Dispose"/> disposes the model.</param>
public sealed partial class AnomalySegmenter(ISegmentationModel model, InstructionType defaultMode = InstructionType.DescribeThenSegment, bool ownsModel = true)
    : IDisposable
{
    /// <summary>The default model's directory relative to the application (or repository) root, e.g. <c>models/agvas-tiny</c>:
    /// declared once, as the MSBuild property <c>AgVasDefaultModel</c>, which also places the model package's files.</summary>
    public static string DefaultModelPath { get; } = typeof(AnomalySegmenter).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "AgVasDefaultModel").Value!;

    private readonly Lock gate = new();
    private bool disposed;

    /// <summary>The instruction type of <c>Segment</c> calls that give none.</summary>
    public InstructionType DefaultMode { get; } = defaultMode;

    /// <summary>Opens an AG-VAS model directory (<see cref="AgVasModelDirectory"/>); a missing, truncated or inconsistent
    /// directory is a <see cref="CheckpointException"/> (or <see cref="TokenizerException"/>) naming the file.</summary>
    public static AnomalySegmenter Load(string modelDir, InstructionType defaultMode = InstructionType.DescribeThenSegment) =>
        new(AgVasInferenceModel.Load(modelDir), defaultMode);

    /// <summary>Opens the default model (<see cref="LocateDefaultModel"/>): shipped by the <c>AgVas.Models.Default</c>
    /// package into the application's output, or found in the repository.</summary>
    public static AnomalySegmenter LoadDefault(InstructionType defaultMode = InstructionType.DescribeThenSegment) =>
        Load(LocateDefaultModel(), defaultMode);

    /// <summary><see cref="Load"/>(<paramref name="modelDir"/>), or <see cref="LoadDefault"/> when it is null.</summary>
    public static AnomalySegmenter LoadOrDefault(string? modelDir, InstructionType defaultMode = InstructionType.DescribeThenSegment) =>
        Load(modelDir ?? LocateDefaultModel(), defaultMode);

    /// <summary>
    /// The default model's directory: <see cref="DefaultModelPath"/> in the application's directory or one of its parents,
    /// or in the working directory or one of its parents. Throws a <see cref="CheckpointException"/> when it is not there.
    /// </summary>
    public static string LocateDefaultModel()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, DefaultModelPath);
                if (Directory.Exists(candidate)) return candidate;
            }
        }
        throw new CheckpointException(DefaultModelPath,
            $"the default model was not found in {AppContext.BaseDirectory}, the working directory or their parents; " +
            "reference the AgVas.Models.Default package or give a model directory (--model)");
    }

    /// <summary>Segments an image file (PNG, JPEG, BMP, WebP); an unreadable file is a <see cref="DataException"/> naming it.</summary>
    public Prediction Segment(string imagePath, InstructionType? mode = null) => Segment(ImageIO.LoadRgb(imagePath), mode);

    /// <summary>Segments an encoded image read from <paramref name="stream"/>; <paramref name="name"/> names it in errors.</summary>
    public Prediction Segment(Stream stream, string name, InstructionType? mode = null) => Segment(ImageIO.LoadRgb(stream, name), mode);

    /// <summary>Segments 8-bit RGB pixels, [H, W, 3] row-major, asked in <paramref name="mode"/> (default: <see cref="DefaultMode"/>).</summary>
    public Prediction Segment(RgbImage image, InstructionType? mode = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return model.Predict(image, mode ?? DefaultMode);
        }
    }

    /// <summary>Disposes the model when the segmenter owns it.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            if (disposed) return;
            disposed = true;
            if (ownsModel) (model as IDisposable)?.Dispose();
        }
    }
}
