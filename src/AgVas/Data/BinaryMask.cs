namespace AgVas.Data;

/// <summary>A binary mask, row-major: <c>Data[y * Width + x]</c> is true for an anomalous pixel.</summary>
public sealed class BinaryMask
{
    public int Width { get; }
    public int Height { get; }
    /// <summary>[H, W].</summary>
    public bool[] Data { get; }

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

    public int CountPositive() => Data.Count(v => v);
}
