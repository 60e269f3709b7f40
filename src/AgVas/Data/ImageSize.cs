namespace AgVas.Data;

/// <summary>An image's pixel size, as read from its header.</summary>
public readonly record struct ImageSize(int Width, int Height)
{
    public override string ToString() => $"{Width}x{Height}";
}
