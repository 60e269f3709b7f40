namespace AgVas.Data;

/// <summary>An 8-bit RGB image in row-major, interleaved layout: <c>Pixels[(y * Width + x) * 3 + c]</c>.</summary>
public sealed class RgbImage
{
    /// <summary>Width W in pixels.</summary>
    public int Width { get; }
    /// <summary>Height H in pixels.</summary>
    public int Height { get; }
    /// <summary>[H, W, 3] bytes.</summary>
    public byte[] Pixels { get; }

    /// <summary>An image of <paramref name="pixels"/> ([H, W, 3], taken as is), or a black one when it is null.</summary>
    public RgbImage(int width, int height, byte[]? pixels = null)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"image size must be positive, got {width}x{height}");
        pixels ??= new byte[checked(width * height * 3)];
        if (pixels.Length != width * height * 3)
            throw new ArgumentException($"expected {width * height * 3} bytes for {width}x{height} RGB, got {pixels.Length}", nameof(pixels));
        Width = width;
        Height = height;
        Pixels = pixels;
    }
}
