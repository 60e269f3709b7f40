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

    /// <summary>The image turned a quarter turn clockwise (Height × Width).</summary>
    public RgbImage RotateClockwise() => Moved(Height, Width, (x, y) => x * Height + (Height - 1 - y));

    /// <summary>The image mirrored left to right.</summary>
    public RgbImage FlipHorizontal() => Moved(Width, Height, (x, y) => y * Width + (Width - 1 - x));

    /// <summary>A width × height image whose pixel <paramref name="target"/>(x, y) (a row-major index) is this image's (x, y).</summary>
    private RgbImage Moved(int width, int height, Func<int, int, int> target)
    {
        var moved = new RgbImage(width, height);
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
                Array.Copy(Pixels, (y * Width + x) * 3, moved.Pixels, target(x, y) * 3, 3);
        return moved;
    }

    /// <summary>The 8 views of the dihedral group: the image and its 3 quarter turns, then the mirror image and its 3
    /// quarter turns. The first view is this image.</summary>
    public IEnumerable<RgbImage> DihedralViews()
    {
        foreach (var start in new[] { this, FlipHorizontal() })
        {
            var view = start;
            for (int k = 0; k < 4; k++)
            {
                yield return view;
                if (k < 3) view = view.RotateClockwise();
            }
        }
    }
}
