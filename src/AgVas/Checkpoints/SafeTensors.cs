using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace AgVas.Checkpoints;

/// <summary>Writes safetensors files and sharded checkpoints byte-for-byte as the Hugging Face reference
/// implementation (safetensors' serialize_file) and transformers' save_pretrained do.</summary>
public static class SafeTensors
{
    private const int ChunkBytes = 1 << 24;

    /// <summary>Writes <paramref name="tensors"/> to <paramref name="path"/> atomically (temporary file, then rename).</summary>
    /// <remarks>As the reference writer: tensors ordered by descending dtype alignment, then by name; compact JSON
    /// header with "__metadata__" first (omitted when <paramref name="metadata"/> is null); header padded with spaces
    /// to a multiple of 8 bytes; data little-endian, C order, no gaps. Non-contiguous or non-CPU tensors are copied
    /// one at a time while writing.</remarks>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var (ordered, header) = Prepare(path, tensors, metadata);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var (entry, tensor) in ordered)
                if (entry.ByteLength > 0) WriteData(stream, tensor);
        });
    }

    /// <summary>The reference writer's order and header for <paramref name="tensors"/>.</summary>
    internal static (List<(SafeTensorsEntry Entry, Tensor Tensor)> Ordered, byte[] Header) Prepare(
        string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var strictUtf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var items = new List<(string Name, SafeTensorsDtype Dtype, Tensor Tensor)>();
        foreach (var (name, tensor) in tensors)
        {
            if (name == SafeTensorsHeader.MetadataKey) throw new CheckpointException(path, $"tensor name '{name}' is reserved for metadata");
            if (!seen.Add(name)) throw new CheckpointException(path, $"duplicate tensor name '{name}'");
            try { strictUtf8.GetByteCount(name); }
            catch (EncoderFallbackException) { throw new CheckpointException(path, $"tensor name '{name}' is not valid Unicode"); }
            var dtype = SafeTensorsDtypes.FromScalarType(tensor.dtype)
                ?? throw new CheckpointException(path, $"tensor '{name}': {tensor.dtype} has no safetensors dtype");
            items.Add((name, dtype, tensor));
        }
        // The reference sorts by descending dtype (its enum is in increasing alignment order), then by name.
        items.Sort((a, b) => a.Dtype != b.Dtype ? b.Dtype.CompareTo(a.Dtype) : Utf8Order.Instance.Compare(a.Name, b.Name));

        var ordered = new List<(SafeTensorsEntry, Tensor)>(items.Count);
        long offset = 0;
        foreach (var (name, dtype, tensor) in items)
        {
            long bytes = tensor.numel() * dtype.ElementSize();
            ordered.Add((new SafeTensorsEntry(name, dtype, tensor.shape, offset, offset + bytes), tensor));
            offset += bytes;
        }
        if (metadata is not null)
            foreach (var (key, value) in metadata)
            {
                try { strictUtf8.GetByteCount(key); strictUtf8.GetByteCount(value); }
                catch (EncoderFallbackException) { throw new CheckpointException(path, $"metadata key '{key}' or its value is not valid Unicode"); }
            }
        return (ordered, SafeTensorsHeader.Serialize(ordered.Select(o => o.Item1).ToList(), metadata));
    }

    private static unsafe void WriteData(Stream stream, Tensor tensor)
    {
        using var scope = NewDisposeScope();
        var data = tensor.device_type == TorchSharp.DeviceType.CPU ? tensor.contiguous() : tensor.cpu().contiguous();
        byte* p = TensorMemory.DataPointer(data);
        long total = data.numel() * data.element_size();
        for (long done = 0; done < total;)
        {
            int chunk = (int)Math.Min(ChunkBytes, total - done);
            stream.Write(new ReadOnlySpan<byte>(p + done, chunk));
            done += chunk;
        }
    }

    /// <summary>Writes a checkpoint split into shards of at most <paramref name="maxShardBytes"/> data bytes, as
    /// transformers' save_pretrained does: <c>{baseName}-00001-of-0000N.safetensors</c>, ... and
    /// <c>{baseName}.safetensors.index.json</c>, or a single <c>{baseName}.safetensors</c> and no index when everything
    /// fits in one shard. Each file is written atomically; stale shards of the same base name are removed afterwards.</summary>
    /// <remarks>Tensors are assigned in the given order (huggingface_hub's split_state_dict_into_shards_factory): a
    /// tensor larger than the limit gets a shard of its own; otherwise a new shard starts when the next tensor would
    /// exceed the limit. Each shard carries <paramref name="metadata"/> (transformers passes {"format": "pt"}).</remarks>
    /// <returns>The paths written, shards first, then the index if any.</returns>
    public static IReadOnlyList<string> WriteSharded(string directory, IEnumerable<KeyValuePair<string, Tensor>> tensors, long maxShardBytes,
        string baseName = "model", IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxShardBytes);
        if (string.IsNullOrEmpty(baseName) || baseName.IndexOfAny(['/', '\\']) >= 0)
            throw new ArgumentException($"'{baseName}' is not a file base name", nameof(baseName));
        var all = tensors.ToList();
        var indexPath = Path.Combine(directory, $"{baseName}.safetensors.index.json");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, _) in all)
            if (!seen.Add(name)) throw new CheckpointException(indexPath, $"duplicate tensor name '{name}'");

        var shards = new List<List<KeyValuePair<string, Tensor>>>();
        var current = new List<KeyValuePair<string, Tensor>>();
        long currentBytes = 0, totalBytes = 0;
        foreach (var item in all)
        {
            long bytes = item.Value.numel() * item.Value.element_size();
            totalBytes += bytes;
            if (bytes > maxShardBytes)
            {
                shards.Add([item]);
                continue;
            }
            if (currentBytes + bytes > maxShardBytes)
            {
                shards.Add(current);
                current = [];
                currentBytes = 0;
            }
            current.Add(item);
            currentBytes += bytes;
        }
        if (current.Count > 0 || shards.Count == 0) shards.Add(current);

        var written = new List<string>();
        if (shards.Count == 1)
        {
            var single = Path.Combine(directory, $"{baseName}.safetensors");
            Write(single, shards[0], metadata);
            written.Add(single);
            RemoveStale(directory, baseName, keep: new HashSet<string>(), alsoRemove: indexPath);
            return written;
        }

        var weightMap = new SortedDictionary<string, string>(Utf8Order.Instance);
        var fileNames = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < shards.Count; i++)
        {
            var fileName = $"{baseName}-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            var shardPath = Path.Combine(directory, fileName);
            Write(shardPath, shards[i], metadata);
            written.Add(shardPath);
            fileNames.Add(fileName);
            foreach (var (name, _) in shards[i]) weightMap[name] = fileName;
        }
        AtomicFile.WriteAllText(indexPath, IndexJson(totalBytes, weightMap));
        written.Add(indexPath);
        RemoveStale(directory, baseName, keep: fileNames, alsoRemove: Path.Combine(directory, $"{baseName}.safetensors"));
        return written;
    }

    /// <summary>Removes shards of an earlier save that are not part of this one (as transformers does), and the
    /// single file or index of the other layout, which loaders would otherwise pick up instead of ours.</summary>
    private static void RemoveStale(string directory, string baseName, IReadOnlySet<string> keep, string alsoRemove)
    {
        var shardName = new Regex($"^{Regex.Escape(baseName)}-\\d{{5}}-of-\\d{{5}}\\.safetensors$");
        foreach (var file in Directory.EnumerateFiles(directory))
        {
            var name = Path.GetFileName(file);
            if (shardName.IsMatch(name) && !keep.Contains(name)) File.Delete(file);
        }
        if (File.Exists(alsoRemove)) File.Delete(alsoRemove);
    }

    /// <summary>The index exactly as <c>json.dumps(index, indent=2, sort_keys=True) + "\n"</c> writes it.</summary>
    internal static string IndexJson(long totalBytes, IEnumerable<KeyValuePair<string, string>> sortedWeightMap)
    {
        var sb = new StringBuilder();
        sb.Append("{\n  \"metadata\": {\n    \"total_size\": ").Append(totalBytes).Append("\n  },\n  \"weight_map\": {");
        bool first = true;
        foreach (var (name, file) in sortedWeightMap)
        {
            sb.Append(first ? "\n    " : ",\n    ");
            first = false;
            SafeTensorsHeader.AppendString(sb, name, asciiOnly: true);
            sb.Append(": ");
            SafeTensorsHeader.AppendString(sb, file, asciiOnly: true);
        }
        sb.Append(first ? "}\n}\n" : "\n  }\n}\n");
        return sb.ToString();
    }
}
