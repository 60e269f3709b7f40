using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Checkpoints;

/// <summary>An open .safetensors file: the validated header in memory, tensor data read on demand by positional
/// reads straight into the new tensor's storage (the file is never loaded whole).</summary>
/// <remarks>Thread-safe for concurrent <see cref="Load"/> calls. Assumes a little-endian host, as the format does.</remarks>
public sealed class SafeTensorsFile : IDisposable
{
    // Positional reads and conversions go through this many bytes at a time (Span lengths are int).
    private const int ChunkBytes = 1 << 24;

    private readonly SafeFileHandle handle;
    private readonly long dataStart;

    private SafeTensorsFile(string path, SafeFileHandle handle, SafeTensorsHeader.Parsed header)
    {
        Path = path;
        this.handle = handle;
        dataStart = header.DataStart;
        Entries = header.Entries;
        Metadata = header.Metadata;
    }

    /// <summary>The path the file was opened with.</summary>
    public string Path { get; }

    /// <summary>Every tensor of the header by name.</summary>
    public IReadOnlyDictionary<string, SafeTensorsEntry> Entries { get; }

    /// <summary>The header's "__metadata__" map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Opens and validates <paramref name="path"/>; any problem is a <see cref="CheckpointException"/> naming it.</summary>
    public static SafeTensorsFile Open(string path)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors reading needs a little-endian host");
        SafeFileHandle handle;
        try { handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CheckpointException(path, $"cannot open: {e.Message}", e);
        }
        try { return new SafeTensorsFile(path, handle, SafeTensorsHeader.Read(handle, path)); }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Loads one tensor as a new CPU tensor of its shape and of <see cref="SafeTensorsDtypes.LoadedScalarType"/>
    /// (the stored type, or its exact widening for U16, U32, U64 and fp8), reading only that tensor's bytes.</summary>
    public Tensor Load(string name)
    {
        ObjectDisposedException.ThrowIf(handle.IsClosed, this);
        if (!Entries.TryGetValue(name, out var e)) throw new CheckpointException(Path, $"no tensor named '{name}'");
        var tensor = empty(e.Shape, e.Dtype.LoadedScalarType());
        try
        {
            if (e.ByteLength > 0) Fill(tensor, e);
            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    private unsafe void Fill(Tensor tensor, SafeTensorsEntry e)
    {
        byte* destination = TensorMemory.DataPointer(tensor);
        long offset = dataStart + e.Begin;
        switch (e.Dtype)
        {
            case SafeTensorsDtype.U16:
                ReadWidening(e, offset, 2, (src, count, done) =>
                {
                    var s = MemoryMarshal.Cast<byte, ushort>(src);
                    int* d = (int*)destination + done;
                    for (int i = 0; i < count; i++) d[i] = s[i];
                });
                break;
            case SafeTensorsDtype.U32:
                ReadWidening(e, offset, 4, (src, count, done) =>
                {
                    var s = MemoryMarshal.Cast<byte, uint>(src);
                    long* d = (long*)destination + done;
                    for (int i = 0; i < count; i++) d[i] = s[i];
                });
                break;
            case SafeTensorsDtype.F8E4M3 or SafeTensorsDtype.F8E5M2:
                var table = e.Dtype == SafeTensorsDtype.F8E4M3 ? SafeTensorsDtypes.F8E4M3Values : SafeTensorsDtypes.F8E5M2Values;
                ReadWidening(e, offset, 1, (src, count, done) =>
                {
                    float* d = (float*)destination + done;
                    for (int i = 0; i < count; i++) d[i] = table[src[i]];
                });
                break;
            default:
                for (long done = 0; done < e.ByteLength;)
                {
                    int chunk = (int)Math.Min(ChunkBytes, e.ByteLength - done);
                    SafeTensorsHeader.ReadExactly(handle, Path, new Span<byte>(destination + done, chunk), offset + done);
                    done += chunk;
                }
                if (e.Dtype == SafeTensorsDtype.U64) RequireBelow2To63((long*)destination, e.ElementCount, e.Name);
                if (e.Dtype == SafeTensorsDtype.Bool) RequireZeroOrOne(destination, e.ElementCount, e.Name);
                break;
        }
    }

    private delegate void ChunkConverter(ReadOnlySpan<byte> source, int count, long elementsDone);

    /// <summary>Reads the stored bytes chunk by chunk into a pooled buffer and widens each chunk into the tensor.</summary>
    private void ReadWidening(SafeTensorsEntry e, long offset, int elementSize, ChunkConverter convert)
    {
        int chunkElements = ChunkBytes / elementSize;
        var buffer = new byte[(int)Math.Min(e.ByteLength, (long)chunkElements * elementSize)];
        for (long done = 0; done < e.ElementCount;)
        {
            int count = (int)Math.Min(chunkElements, e.ElementCount - done);
            var span = buffer.AsSpan(0, count * elementSize);
            SafeTensorsHeader.ReadExactly(handle, Path, span, offset + done * elementSize);
            convert(span, count, done);
            done += count;
        }
    }

    private unsafe void RequireBelow2To63(long* values, long count, string name)
    {
        for (long i = 0; i < count; i++)
            if (values[i] < 0)
                throw new CheckpointException(Path, $"tensor '{name}': U64 value {(ulong)values[i]} at element {i} does not fit Int64 (TorchSharp has no uint64)");
    }

    /// <summary>A torch bool must be the byte 0 or 1; anything else makes later comparisons unpredictable.</summary>
    private unsafe void RequireZeroOrOne(byte* values, long count, string name)
    {
        for (long i = 0; i < count; i++)
            if (values[i] > 1)
                throw new CheckpointException(Path, $"tensor '{name}': BOOL byte {values[i]} at element {i} is neither 0 nor 1");
    }

    public void Dispose() => handle.Dispose();
}
