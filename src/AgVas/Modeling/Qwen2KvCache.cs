using static TorchSharp.torch;

namespace AgVas.Modeling;

/// <summary>Keys and values of past positions, one pair per decoder layer, for incremental decoding. The cache owns its
/// tensors (detached from every dispose scope) and frees them on <see cref="Dispose"/> or when they are replaced.</summary>
public sealed class Qwen2KvCache : IDisposable
{
    private readonly Tensor?[] keys;
    private readonly Tensor?[] values;

    public Qwen2KvCache(int numLayers)
    {
        keys = new Tensor?[numLayers];
        values = new Tensor?[numLayers];
    }

    /// <summary>Number of cached positions (that of layer 0).</summary>
    public long Length => keys[0]?.shape[2] ?? 0;

    /// <summary>Appends key, value [B, KV, T, head_dim] of <paramref name="layer"/> and returns the full
    /// [B, KV, past + T, head_dim] tensors (owned by the cache: callers must not dispose them).</summary>
    public (Tensor Key, Tensor Value) Append(int layer, Tensor key, Tensor value)
    {
        keys[layer] = Replace(keys[layer], key);
        values[layer] = Replace(values[layer], value);
        return (keys[layer]!, values[layer]!);
    }

    private static Tensor Replace(Tensor? past, Tensor next)
    {
        var full = past is null ? next.clone() : cat([past, next], dim: 2);                 // [B, KV, past + T, head_dim]
        full.DetachFromDisposeScope();
        past?.Dispose();
        return full;
    }

    public void Dispose()
    {
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i]?.Dispose();
            values[i]?.Dispose();
            keys[i] = values[i] = null;
        }
    }
}
