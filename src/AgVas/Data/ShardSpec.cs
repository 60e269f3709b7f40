using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace AgVas.Data;

/// <summary>
/// Shard <see cref="Index"/> of <see cref="Count"/> (written <c>K/N</c>, 0 ≤ K &lt; N): a deterministic partition of a
/// dataset's images for scale-out (#20), e.g. one shard per pod of a Kubernetes Indexed Job.
/// </summary>
/// <remarks>
/// <para><b>Assignment.</b> An image belongs to the shard <c>JumpConsistentHash(H(key), N)</c>, where the key is its
/// relative path (<see cref="ShardKey.Path"/>, normalised by <see cref="NormalizePath"/>) or its category
/// (<see cref="ShardKey.Category"/>), and <c>H(key)</c> is the first 8 bytes, read big-endian as an unsigned 64-bit
/// integer, of the SHA-256 of the key's UTF-8 bytes. <c>JumpConsistentHash</c> is Lamping and Veach's "jump consistent
/// hash" (arXiv:1406.2294), whose double arithmetic is exact IEEE 754 on every .NET platform. The assignment therefore
/// depends only on the key and N: not on the other files, their order, the machine, the process or the .NET version
/// (<see cref="string.GetHashCode()"/> is randomised per process and is never used). Consequences:</para>
/// <list type="bullet">
/// <item>adding or removing files moves no other file;</item>
/// <item>going from N to N + 1 shards moves only about 1/(N + 1) of the images, all into the new shard N;</item>
/// <item>keys are compared ordinally, case and Unicode form included: a run's shards must read the same dataset
/// (the same relative paths), which they do when they read the same folder or manifest.</item>
/// </list>
/// <para><b>Context modes.</b> <c>--context batch</c> scores each image with the others of its category, so it must
/// shard by <see cref="ShardKey.Category"/>: every category is then scored whole, in one shard, exactly as in an
/// unsharded run. Single-image and few-shot (<c>--normals</c>) runs shard by <see cref="ShardKey.Path"/>: each image's
/// result depends only on itself and on the reference set, which every shard loads whole. See <see cref="KeyFor"/>.</para>
/// <para><b>Resolution.</b> <see cref="Resolve"/> reads <c>K/N</c>, or <c>/N</c> with K taken from the
/// <c>JOB_COMPLETION_INDEX</c> environment variable that Kubernetes sets in each pod of an Indexed Job (so one pod
/// template serves every shard: <c>--shard /N</c> with the Job's <c>completions: N</c>). An explicit K wins over the
/// variable.</para>
/// </remarks>
public sealed record ShardSpec
{
    /// <summary>The environment variable that holds a pod's index in a Kubernetes Indexed Job (0 … completions − 1).</summary>
    public const string IndexVariable = "JOB_COMPLETION_INDEX";

    /// <summary>The whole dataset as one shard (0/1): contains every image.</summary>
    public static ShardSpec All { get; } = new(0, 1);

    /// <summary>Creates shard <paramref name="index"/> of <paramref name="count"/>.</summary>
    /// <exception cref="ShardException">count &lt; 1, index &lt; 0 or index ≥ count.</exception>
    public ShardSpec(int index, int count)
    {
        if (count < 1) throw new ShardException("--shard", $"the shard count N must be at least 1, got {count}");
        if (index < 0 || index >= count)
            throw new ShardException("--shard", $"the shard index K must be in 0..{count - 1} for N = {count}, got {index}");
        Index = index;
        Count = count;
    }

    /// <summary>K: this shard's index, 0 ≤ K &lt; <see cref="Count"/>.</summary>
    public int Index { get; }

    /// <summary>N: the number of shards, ≥ 1.</summary>
    public int Count { get; }

    /// <summary>Reads <c>K/N</c>: two decimal integers (ASCII digits, surrounding white space ignored).</summary>
    /// <exception cref="ShardException">not of that form, N &lt; 1, or K ≥ N; the message quotes the text.</exception>
    public static ShardSpec Parse(string text) => Read(text, _ => null, allowEnvironment: false);

    /// <summary>
    /// Reads <c>--shard</c>: <c>K/N</c>, or <c>/N</c> with K from <see cref="IndexVariable"/> (read through
    /// <paramref name="environment"/>; default: the process environment). An explicit K wins over the variable.
    /// </summary>
    /// <param name="argument">the option's text: <c>K/N</c> or <c>/N</c></param>
    /// <param name="environment">looks up an environment variable (null when unset); for tests</param>
    /// <exception cref="ShardException"><c>/N</c> without the variable; a variable that is not an index below N; or any
    /// <see cref="Parse"/> error.</exception>
    public static ShardSpec Resolve(string argument, Func<string, string?>? environment = null) =>
        Read(argument, environment ?? Environment.GetEnvironmentVariable, allowEnvironment: true);

    private static ShardSpec Read(string argument, Func<string, string?> environment, bool allowEnvironment)
    {
        ArgumentNullException.ThrowIfNull(argument);
        var form = allowEnvironment ? "K/N or /N (K from " + IndexVariable + ")" : "K/N";
        var parts = argument.Trim().Split('/');
        if (parts.Length != 2)
            throw new ShardException("--shard", $"expected {form}, e.g. 0/4, got '{argument}'");
        var count = ParseNumber(parts[1].Trim(), "--shard", $"the shard count N in '{argument}'");
        if (count < 1) throw new ShardException("--shard", $"the shard count N must be at least 1, got '{argument}'");

        int index;
        if (parts[0].Trim().Length > 0)
            index = ParseNumber(parts[0].Trim(), "--shard", $"the shard index K in '{argument}'");
        else if (!allowEnvironment)
            throw new ShardException("--shard", $"expected K/N, e.g. 0/4, got '{argument}'");
        else
        {
            var value = environment(IndexVariable);
            if (string.IsNullOrWhiteSpace(value))
                throw new ShardException("--shard", $"'{argument}' takes K from {IndexVariable}, which is not set; give K/N");
            index = ParseNumber(value.Trim(), IndexVariable, $"the value '{value}'");
            if (index >= count)
                throw new ShardException(IndexVariable, $"{index} is not below the shard count {count} of '--shard {argument}': " +
                                                        "the Job's completions must equal N");
            return new ShardSpec(index, count);
        }
        if (index >= count)
            throw new ShardException("--shard", $"the shard index K must be below N, got '{argument}'");
        return new ShardSpec(index, count);
    }

    private static int ParseNumber(string text, string source, string what) =>
        text.Length > 0 && text.All(char.IsAsciiDigit) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new ShardException(source, $"{what} is not a non-negative integer");

    /// <summary>The key to shard by for a run: <see cref="ShardKey.Category"/> when images are scored in batches of their
    /// category (<c>--context batch</c>), else <see cref="ShardKey.Path"/>.</summary>
    public static ShardKey KeyFor(bool batchContext) => batchContext ? ShardKey.Category : ShardKey.Path;

    /// <summary>Whether the image at <paramref name="relativePath"/> (relative to the dataset root; '\' and '/' alike) is
    /// in this shard.</summary>
    public bool Contains(string relativePath) => ShardOf(NormalizePath(relativePath), Count) == Index;

    /// <summary>Whether the images of <paramref name="category"/> are in this shard (sharding by category, for
    /// <c>--context batch</c>).</summary>
    public bool ContainsCategory(string category) => ShardOf(category, Count) == Index;

    /// <summary>Whether <paramref name="sample"/> is in this shard when sharding by <paramref name="key"/>.</summary>
    public bool Contains(Sample sample, ShardKey key) =>
        key == ShardKey.Category ? ContainsCategory(sample.Category) : Contains(sample.RelativePath);

    /// <summary>This shard's samples, in their original order.</summary>
    public IReadOnlyList<Sample> Filter(IReadOnlyList<Sample> samples, ShardKey key) =>
        Count == 1 ? samples : samples.Where(s => Contains(s, key)).ToList();

    /// <summary>The shard (0 … <paramref name="count"/> − 1) of <paramref name="key"/>, hashed as it is (no
    /// normalisation): <c>JumpConsistentHash(first 8 bytes of SHA-256(UTF-8 key) as big-endian UInt64, count)</c>.</summary>
    public static int ShardOf(string key, int count)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return JumpConsistentHash(KeyHash(key), count);
    }

    /// <summary>The first 8 bytes of SHA-256(UTF-8 <paramref name="key"/>), big-endian.</summary>
    public static ulong KeyHash(string key)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), digest);
        return BinaryPrimitives.ReadUInt64BigEndian(digest);
    }

    /// <summary>A relative path as the shard key hashes it: '\' → '/', without leading "./" or '/' and without empty
    /// segments ("a//b" → "a/b"). Case and Unicode form are kept.</summary>
    public static string NormalizePath(string relativePath)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        var segments = relativePath.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        var start = 0;
        while (start < segments.Length && segments[start] == ".") start++;
        return string.Join('/', segments.Skip(start));
    }

    /// <summary>Lamping and Veach's jump consistent hash: maps <paramref name="key"/> to a bucket in 0 … buckets − 1 such
    /// that growing buckets by one moves only the keys that land in the new bucket.</summary>
    private static int JumpConsistentHash(ulong key, int buckets)
    {
        long b = -1, j = 0;
        while (j < buckets)
        {
            b = j;
            key = unchecked(key * 2862933555777941757UL + 1);
            j = (long)((b + 1) * ((double)(1L << 31) / (double)((key >> 33) + 1)));
        }
        return (int)b;
    }

    /// <summary><c>K/N</c>.</summary>
    public override string ToString() => $"{Index}/{Count}";
}
