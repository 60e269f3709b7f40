namespace AgVas;

/// <summary>Writes files so that a crash never leaves a half-written file under the final name.</summary>
public static class AtomicFile
{
    private const string TemporarySuffix = ".tmp";

    /// <summary>Whether <paramref name="fileName"/> is one of our temporary files (<c>.&lt;name&gt;.&lt;32 hex digits&gt;.tmp</c>):
    /// one that outlived its write belongs to a killed process and may be deleted.</summary>
    public static bool IsTemporary(string fileName)
    {
        if (!fileName.StartsWith('.') || !fileName.EndsWith(TemporarySuffix, StringComparison.Ordinal)) return false;
        var core = fileName[..^TemporarySuffix.Length];
        int dot = core.LastIndexOf('.');
        return dot > 0 && core.Length - dot - 1 == 32 && core[(dot + 1)..].All(char.IsAsciiHexDigitLower);
    }

    /// <summary>The name of the file a temporary file (<see cref="IsTemporary"/>) was written for: <c>.x.png.&lt;hex&gt;.tmp</c> → <c>x.png</c>.</summary>
    public static string TargetOf(string temporaryName) =>
        IsTemporary(temporaryName) ? temporaryName[1..^(TemporarySuffix.Length + 33)]
            : throw new ArgumentException($"'{temporaryName}' is not a temporary file name", nameof(temporaryName));

    /// <summary>Writes through <paramref name="write"/> into a temporary sibling, flushes it, then renames it over <paramref name="path"/>.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}{TemporarySuffix}");
        try
        {
            using (var stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    public static void WriteAllText(string path, string text) =>
        Write(path, s => { using var w = new StreamWriter(s, leaveOpen: true); w.Write(text); });

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }
}
