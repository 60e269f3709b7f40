namespace AgVas.Checkpoints;

/// <summary>One tensor of a safetensors header: its dtype as stored, its shape, and its byte range
/// [<paramref name="Begin"/>, <paramref name="End"/>) relative to the start of the data section (after the header).</summary>
public sealed record SafeTensorsEntry(string Name, SafeTensorsDtype Dtype, long[] Shape, long Begin, long End)
{
    /// <summary>Number of elements (1 for a scalar of shape []).</summary>
    public long ElementCount => Shape.Aggregate(1L, (n, d) => n * d);

    /// <summary>Size of the stored data in bytes.</summary>
    public long ByteLength => End - Begin;
}
