namespace AgVas.Data;

/// <summary>A binary mask, row-major: <c>Data[y * Width + x]</c> is true for an anomalous pixel.</summary>
public sealed class BinaryMask
{
    /// <summary>Width W in pixels.</summary>
    public int Width { get; }
    /// <summary>Height H in pixels.</summary>
    public int Height { get; }
    /// <summary>[H, W].</summary>
    public bool[] Data { get; }

    /// <summary>A mask of <paramref name="data"/> ([H, W], taken as is), or an empty one when it is null.</summary>
    public BinaryMask(int width, int height, bool[]? data = null)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"mask size must be positive, got {width}x{height}");
        data ??= new bool[checked(width * height)];
        if (data.Length != width * height)
            throw new ArgumentException($"expected {width * height} values for a {width}x{height} mask, got {data.Length}", nameof(data));
        Width = width;
        Height = height;
        Data = data;
    }

    /// <summary>The number of anomalous pixels.</summary>
    public int CountPositive() => Data.Count(v => v);
}
