using System.Text.Json;
using static TorchSharp.torch;

namespace AgVas.Checkpoints;

/// <summary>The tensors of a Hugging Face checkpoint, single-file or sharded, by name. Shards are opened lazily, on
/// the first access to one of their tensors; the index's routing is verified against each shard as it opens.</summary>
/// <remarks>Thread-safe. Disposing closes every opened shard; tensors already loaded stay valid.</remarks>
public sealed class TensorSource : IDisposable
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly Dictionary<string, string> shardOf; // tensor name → shard path
    private readonly Dictionary<string, SafeTensorsFile?> shards; // shard path → opened file
    private readonly string? indexPath;
    private readonly Lock gate = new();
    private bool disposed;

    private TensorSource(string path, string? indexPath, Dictionary<string, string> shardOf, Dictionary<string, SafeTensorsFile?> shards)
    {
        Path = path;
        this.indexPath = indexPath;
        this.shardOf = shardOf;
        this.shards = shards;
        Names = shardOf.Keys.ToList();
    }

    /// <summary>The resolved file: the single .safetensors file or the index.json.</summary>
    public string Path { get; }

    /// <summary>Every tensor name of the checkpoint.</summary>
    public IReadOnlyCollection<string> Names { get; }

    /// <summary>True when the name is in the checkpoint.</summary>
    public bool Contains(string name) => shardOf.ContainsKey(name);

    /// <summary>Opens a .safetensors file, a model.safetensors.index.json, or a directory holding model.safetensors,
    /// model.safetensors.index.json (the single file wins when both exist, as in transformers), or exactly one other
    /// *.safetensors file.</summary>
    public static TensorSource Open(string path)
    {
        var resolved = Resolve(path);
        if (resolved.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) return OpenIndex(resolved);
        var file = SafeTensorsFile.Open(resolved);
        var shardOf = file.Entries.Keys.ToDictionary(n => n, _ => resolved, StringComparer.Ordinal);
        return new TensorSource(resolved, null, shardOf, new Dictionary<string, SafeTensorsFile?> { [resolved] = file });
    }

    private static string Resolve(string path)
    {
        if (File.Exists(path)) return path;
        if (!Directory.Exists(path)) throw new CheckpointException(path, "no such file or directory");
        var single = System.IO.Path.Combine(path, SingleFileName);
        if (File.Exists(single)) return single;
        var index = System.IO.Path.Combine(path, IndexFileName);
        if (File.Exists(index)) return index;
        var candidates = Directory.GetFiles(path, "*.safetensors");
        return candidates.Length switch
        {
            1 => candidates[0],
            0 => throw new CheckpointException(path, $"no {SingleFileName}, {IndexFileName} or other *.safetensors file in this directory"),
            _ => throw new CheckpointException(path, $"{candidates.Length} *.safetensors files but no {IndexFileName} to say how they fit together"),
        };
    }

    private static TensorSource OpenIndex(string indexPath)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(indexPath)); }
        catch (JsonException e) { throw new CheckpointException(indexPath, $"not valid JSON: {e.Message.ReplaceLineEndings(" ")}", e); }
        catch (IOException e) { throw new CheckpointException(indexPath, $"cannot read: {e.Message}", e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("weight_map", out var map)
                || map.ValueKind != JsonValueKind.Object)
                throw new CheckpointException(indexPath, "no \"weight_map\" object (not a safetensors index)");
            var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(indexPath))!;
            var shardOf = new Dictionary<string, string>(StringComparer.Ordinal);
            var shards = new Dictionary<string, SafeTensorsFile?>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String)
                    throw new CheckpointException(indexPath, $"weight_map entry of tensor '{entry.Name}' is not a file name");
                var file = entry.Value.GetString()!;
                if (file.Length == 0 || System.IO.Path.IsPathRooted(file) || file.Split('/', '\\').Contains(".."))
                    throw new CheckpointException(indexPath, $"tensor '{entry.Name}' maps to '{file}', which is not a file beside the index");
                var shardPath = System.IO.Path.Combine(directory, file);
                if (!shards.ContainsKey(shardPath))
                {
                    if (!File.Exists(shardPath))
                        throw new CheckpointException(indexPath, $"shard '{file}' (holding tensor '{entry.Name}') does not exist");
                    shards.Add(shardPath, null);
                }
                if (!shardOf.TryAdd(entry.Name, shardPath))
                    throw new CheckpointException(indexPath, $"duplicate tensor name '{entry.Name}' in weight_map");
            }
            return new TensorSource(indexPath, indexPath, shardOf, shards);
        }
    }

    /// <summary>The stored header entry of a tensor (dtype as stored, shape, byte range in its shard).</summary>
    public SafeTensorsEntry Entry(string name)
    {
        var file = FileOf(name);
        return file.Entries[name];
    }

    /// <summary>The tensor's shape.</summary>
    public long[] Shape(string name) => (long[])Entry(name).Shape.Clone();

    /// <summary>The tensor's dtype as stored in the file.</summary>
    public SafeTensorsDtype Dtype(string name) => Entry(name).Dtype;

    /// <summary>Loads a tensor as a new CPU tensor (see <see cref="SafeTensorsFile.Load"/>).</summary>
    public Tensor Load(string name) => FileOf(name).Load(name);

    /// <summary>Copies the stored tensor <paramref name="name"/> into <paramref name="target"/> (without autograd). A
    /// missing or mis-shaped tensor is a <see cref="CheckpointException"/> naming the file and <paramref name="what"/>
    /// holds it (e.g. "the weights", "the optimiser state").</summary>
    public void CopyInto(string name, Tensor target, string what)
    {
        if (!Contains(name)) throw new CheckpointException(Path, $"{what}: no tensor '{name}' (was the checkpoint written for another model?)");
        using var loaded = Load(name);
        if (!loaded.shape.SequenceEqual(target.shape))
            throw new CheckpointException(Path, $"{what}: tensor '{name}' has shape [{string.Join(", ", loaded.shape)}], expected [{string.Join(", ", target.shape)}]");
        using var guard = no_grad();
        target.copy_(loaded);
    }

    /// <summary>Opens every shard now and checks that each holds the tensors the index routes to it.</summary>
    public void Validate()
    {
        foreach (var name in Names) FileOf(name);
    }

    private SafeTensorsFile FileOf(string name)
    {
        if (!shardOf.TryGetValue(name, out var shardPath)) throw new CheckpointException(Path, $"no tensor named '{name}'");
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (shards[shardPath] is { } open) return open;
            var file = SafeTensorsFile.Open(shardPath);
            try
            {
                foreach (var (tensor, path) in shardOf)
                    if (path == shardPath && !file.Entries.ContainsKey(tensor))
                        throw new CheckpointException(shardPath, $"tensor '{tensor}' is missing from this shard, though {System.IO.Path.GetFileName(indexPath)} lists it here");
            }
            catch
            {
                file.Dispose();
                throw;
            }
            shards[shardPath] = file;
            return file;
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            if (disposed) return;
            disposed = true;
            foreach (var file in shards.Values) file?.Dispose();
        }
    }
}
