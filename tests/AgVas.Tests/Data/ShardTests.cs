using AgVas.Data;
using CsCheck;

namespace AgVas.Tests.Data;

/// <summary><see cref="ShardSpec"/>: parsing and <c>JOB_COMPLETION_INDEX</c> resolution, an exact and stable partition
/// (golden assignments computed by an independent Python implementation: hashlib SHA-256 + jump consistent hash), balance,
/// and the moves caused by adding files or shards.</summary>
public sealed class ShardTests
{
    /// <summary>10,000 MVTec-like relative paths over 15 categories.</summary>
    private static readonly string[] Paths = Enumerable.Range(0, 10_000)
        .Select(i => $"cat{i % 15:00}/test/defect{i / 15 % 7}/{i:00000}.png").ToArray();

    private static Func<string, string?> Env(string? index) =>
        name => name == ShardSpec.IndexVariable ? index : null;

    [Theory]
    [InlineData("0/1", 0, 1)]
    [InlineData("3/8", 3, 8)]
    [InlineData(" 2 / 4 ", 2, 4)]
    [InlineData("007/10", 7, 10)]
    public void Parse_reads_K_of_N(string text, int index, int count)
    {
        var shard = ShardSpec.Parse(text);
        Assert.Equal(new ShardSpec(index, count), shard);
        Assert.Equal($"{index}/{count}", shard.ToString());
    }

    [Theory]
    [InlineData("4/4", "below N")]
    [InlineData("5/4", "below N")]
    [InlineData("0/0", "at least 1")]
    [InlineData("-1/4", "not a non-negative integer")]
    [InlineData("+1/4", "not a non-negative integer")]
    [InlineData("a/4", "not a non-negative integer")]
    [InlineData("1/b", "not a non-negative integer")]
    [InlineData("1.0/4", "not a non-negative integer")]
    [InlineData("99999999999/4", "not a non-negative integer")]
    [InlineData("1", "expected K/N")]
    [InlineData("1/2/3", "expected K/N")]
    [InlineData("", "expected K/N")]
    [InlineData("/4", "expected K/N")]
    public void Parse_rejects_bad_input_with_a_clear_message(string text, string problem)
    {
        var error = Assert.Throws<ShardException>(() => ShardSpec.Parse(text));
        Assert.Equal("--shard", error.File);
        Assert.Contains(problem, error.Problem);
        if (text.Contains('/')) Assert.Contains($"'{text}'", error.Problem);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(-1, 4)]
    [InlineData(4, 4)]
    public void The_constructor_validates(int index, int count) =>
        Assert.Throws<ShardException>(() => new ShardSpec(index, count));

    [Fact]
    public void Resolve_takes_K_from_JOB_COMPLETION_INDEX_when_omitted()
    {
        Assert.Equal("JOB_COMPLETION_INDEX", ShardSpec.IndexVariable);
        Assert.Equal(new ShardSpec(2, 4), ShardSpec.Resolve("/4", Env("2")));
        Assert.Equal(new ShardSpec(0, 1), ShardSpec.Resolve(" /1", Env(" 0 ")));
    }

    [Fact]
    public void Resolve_prefers_an_explicit_K_and_does_not_need_the_variable()
    {
        Assert.Equal(new ShardSpec(1, 4), ShardSpec.Resolve("1/4", Env("3")));
        Assert.Equal(new ShardSpec(1, 4), ShardSpec.Resolve("1/4", Env(null)));
    }

    [Theory]
    [InlineData(null, "--shard", "not set")]
    [InlineData("", "--shard", "not set")]
    [InlineData("x", "JOB_COMPLETION_INDEX", "not a non-negative integer")]
    [InlineData("-1", "JOB_COMPLETION_INDEX", "not a non-negative integer")]
    [InlineData("4", "JOB_COMPLETION_INDEX", "completions must equal N")]
    public void Resolve_explains_a_missing_or_bad_variable(string? value, string source, string problem)
    {
        var error = Assert.Throws<ShardException>(() => ShardSpec.Resolve("/4", Env(value)));
        Assert.Equal(source, error.File);
        Assert.Contains(problem, error.Problem);
    }

    [Fact]
    public void Resolve_reads_the_process_environment_by_default()
    {
        // Only K/N here: the process environment is shared by parallel tests and is not modified.
        Assert.Equal(new ShardSpec(3, 5), ShardSpec.Resolve("3/5"));
    }

    [Fact]
    public void Every_path_is_in_exactly_one_shard_for_N_1_to_8()
    {
        for (var n = 1; n <= 8; n++)
        {
            var shards = Enumerable.Range(0, n).Select(k => new ShardSpec(k, n)).ToArray();
            foreach (var path in Paths)
                Assert.Single(shards, s => s.Contains(path));
        }
    }

    [Fact]
    public void Every_key_is_in_exactly_one_shard_property()
    {
        Gen.Select(Gen.String, Gen.Int[1, 64]).Sample((key, n) =>
        {
            var owners = Enumerable.Range(0, n).Count(k => new ShardSpec(k, n).Contains(key));
            var categoryOwners = Enumerable.Range(0, n).Count(k => new ShardSpec(k, n).ContainsCategory(key));
            return owners == 1 && categoryOwners == 1 && ShardSpec.ShardOf(ShardSpec.NormalizePath(key), n) is var s && s >= 0 && s < n;
        });
    }

    // Golden assignments, from /tmp/jump.py-style reference code (Python: struct.unpack('>Q', sha256(key)[:8]) and the
    // jump consistent hash with float arithmetic). A change here changes which pod scores which image.
    [Theory]
    [InlineData("bottle/test/broken_large/000.png", 0x2d3f6c6e5e775aecUL, new[] { 0, 1, 1, 1, 1, 1, 1, 47 })]
    [InlineData("cookie/anomaly-1.jpg", 0x6c1d298141146505UL, new[] { 0, 0, 0, 3, 3, 3, 3, 35 })]
    [InlineData("hazelnut/test/good/012.png", 0x45708255e6556985UL, new[] { 0, 1, 1, 1, 1, 7, 9, 35 })]
    [InlineData("pcb1/Data/Images/Normal/0001.JPG", 0x71a2a5fc7ca40b45UL, new[] { 0, 1, 1, 1, 1, 5, 5, 44 })]
    [InlineData("bottle", 0x7def9c79e5be6d7aUL, new[] { 0, 0, 0, 0, 4, 4, 4, 86 })]
    [InlineData("hazelnut", 0x83a1cbb2b2d02d34UL, new[] { 0, 1, 1, 1, 1, 6, 10, 96 })]
    [InlineData("pcb1", 0xe6fcde372c2e34e3UL, new[] { 0, 0, 0, 0, 4, 5, 10, 53 })]
    public void Assignments_are_pinned(string key, ulong hash, int[] shards)
    {
        int[] counts = [1, 2, 3, 4, 5, 8, 16, 100];
        Assert.Equal(hash, ShardSpec.KeyHash(key));
        Assert.Equal(shards, counts.Select(n => ShardSpec.ShardOf(key, n)).ToArray());
        for (var i = 0; i < counts.Length; i++)
        {
            Assert.True(new ShardSpec(shards[i], counts[i]).Contains(key));
            Assert.True(new ShardSpec(shards[i], counts[i]).ContainsCategory(key));
        }
    }

    [Fact]
    public void Shards_are_balanced_on_10000_paths()
    {
        for (var n = 2; n <= 8; n++)
        {
            var sizes = new int[n];
            foreach (var path in Paths) sizes[ShardSpec.ShardOf(path, n)]++;
            var mean = Paths.Length / (double)n;
            // Binomial sd ≤ sqrt(10000 · 1/2 · 1/2) = 50; ±10 % of the mean is ≥ 2.5 sd.
            Assert.All(sizes, size => Assert.InRange(size, 0.9 * mean, 1.1 * mean));
        }
    }

    [Fact]
    public void Adding_files_moves_only_the_new_ones()
    {
        var samples = Paths[..5000].Select(Sample).ToList();
        var grown = samples.Concat(Paths[5000..].Select(Sample)).OrderBy(s => s.RelativePath, StringComparer.Ordinal).ToList();
        var added = Paths[5000..].ToHashSet();
        for (var k = 0; k < 5; k++)
        {
            var shard = new ShardSpec(k, 5);
            var before = shard.Filter(samples, ShardKey.Path).Select(s => s.RelativePath).ToHashSet();
            var after = shard.Filter(grown, ShardKey.Path).Select(s => s.RelativePath).ToHashSet();
            Assert.Subset(after, before);
            Assert.Subset(added, after.Except(before).ToHashSet());
        }
    }

    [Fact]
    public void Going_from_N_to_N_plus_1_shards_moves_only_into_the_new_shard()
    {
        for (var n = 1; n <= 8; n++)
        {
            var moved = 0;
            foreach (var path in Paths)
            {
                int before = ShardSpec.ShardOf(path, n), after = ShardSpec.ShardOf(path, n + 1);
                if (before == after) continue;
                Assert.Equal(n, after);
                moved++;
            }
            var expected = Paths.Length / (n + 1.0);
            Assert.InRange(moved, 0.9 * expected, 1.1 * expected);
        }
    }

    [Theory]
    [InlineData(@"bottle\test\good\000.png")]
    [InlineData("./bottle/test/good/000.png")]
    [InlineData("/bottle//test/good/000.png")]
    [InlineData(@".\bottle\test/good\000.png")]
    public void Separators_are_normalised(string path)
    {
        Assert.Equal("bottle/test/good/000.png", ShardSpec.NormalizePath(path));
        for (var n = 1; n <= 8; n++)
            for (var k = 0; k < n; k++)
                Assert.Equal(new ShardSpec(k, n).Contains("bottle/test/good/000.png"), new ShardSpec(k, n).Contains(path));
    }

    [Fact]
    public void Paths_are_case_sensitive() =>
        Assert.NotEqual(ShardSpec.KeyHash("Bottle/000.png"), ShardSpec.KeyHash("bottle/000.png"));

    [Fact]
    public void Sharding_by_category_keeps_each_category_whole()
    {
        var samples = Paths.Select(Sample).ToList();
        var union = new List<string>();
        for (var k = 0; k < 4; k++)
        {
            var shard = new ShardSpec(k, 4).Filter(samples, ShardKey.Category);
            foreach (var category in shard.Select(s => s.Category).Distinct())
                Assert.Equal(samples.Where(s => s.Category == category), shard.Where(s => s.Category == category));
            union.AddRange(shard.Select(s => s.RelativePath));
        }
        Assert.Equal(samples.Count, union.Count);
        Assert.Equal(samples.Select(s => s.RelativePath).ToHashSet(), union.ToHashSet());
    }

    [Fact]
    public void Filter_keeps_the_order_and_one_shard_keeps_everything()
    {
        var samples = Paths[..300].Select(Sample).ToList();
        Assert.Same(samples, ShardSpec.All.Filter(samples, ShardKey.Path));
        var shard = new ShardSpec(1, 3).Filter(samples, ShardKey.Path);
        Assert.Equal(samples.Where(s => new ShardSpec(1, 3).Contains(s.RelativePath)), shard);
    }

    [Fact]
    public void Batch_context_shards_by_category()
    {
        Assert.Equal(ShardKey.Category, ShardSpec.KeyFor(batchContext: true));
        Assert.Equal(ShardKey.Path, ShardSpec.KeyFor(batchContext: false));
    }

    private static Sample Sample(string relativePath) =>
        new("/data/" + relativePath, relativePath, relativePath[..relativePath.IndexOf('/')], relativePath.Contains("defect0"), []);
}
