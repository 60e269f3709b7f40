using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Checkpoints;

/// <summary>Raw access to the storage of a contiguous CPU tensor of any size.</summary>
internal static class TensorMemory
{
    /// <summary>The address of the first element. TorchSharp 0.107 exposes storage only as <c>Tensor.bytes</c>, a
    /// Span whose int length cannot describe a tensor over 2 GB, so we take the span of a one-element view instead.</summary>
    public static unsafe byte* DataPointer(Tensor tensor)
    {
        if (tensor.device_type != DeviceType.CPU || !tensor.is_contiguous())
            throw new ArgumentException("the tensor must be a contiguous CPU tensor", nameof(tensor));
        if (tensor.numel() == 0) throw new ArgumentException("the tensor has no elements", nameof(tensor));
        using var flat = tensor.view(-1);
        using var first = flat.narrow(0, 0, 1);
        fixed (byte* p = first.bytes) return p;
    }
}
