using AgVas.Data;
using AgVas.Text;

namespace AgVas.Inference;

/// <summary>
/// The library entry point for C# callers: load a model once, then segment images given as a file, a stream, an
/// <see cref="RgbImage"/> or a raw RGB buffer, each call returning one <see cref="Prediction"/>.
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
public sealed class Segmenter(ISegmentationModel model, InstructionType defaultMode = InstructionType.DescribeThenSegment, bool ownsModel = true) : IDisposable
{
    private readonly Lock gate = new();
    private bool disposed;

    public InstructionType DefaultMode { get; } = defaultMode;

    /// <summary>Segments an image file (PNG, JPEG, BMP, WebP); an unreadable file is a <see cref="DataException"/> naming it.</summary>
    public Prediction Segment(string imagePath, InstructionType? mode = null) => Segment(ImageIO.LoadRgb(imagePath), mode);

    /// <summary>Segments an encoded image read from <paramref name="stream"/>; <paramref name="name"/> names it in errors.</summary>
    public Prediction Segment(Stream stream, string name, InstructionType? mode = null) => Segment(ImageIO.LoadRgb(stream, name), mode);

    /// <summary>Segments a raw 8-bit RGB buffer, [H, W, 3] row-major.</summary>
    public Prediction Segment(byte[] rgb, int width, int height, InstructionType? mode = null) => Segment(new RgbImage(width, height, rgb), mode);

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
