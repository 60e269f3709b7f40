using AgVas.Data;

namespace AgVas.Tests.Data;

/// <summary><see cref="Sample"/> as a hash key: <see cref="HashCode.GetHashCode"/> throws, so Sample.GetHashCode must
/// use <see cref="HashCode.ToHashCode"/>.</summary>
public sealed class SampleHashTests
{
    [Fact]
    public void Samples_work_as_hash_set_keys_with_value_equality()
    {
        var a = new Sample("/d/a.png", "a.png", "c", true, ["/d/m1.png", "/d/m2.png"]);
        var b = a with { MaskPaths = ["/d/m1.png", "/d/m2.png"] };
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.Single(new HashSet<Sample> { a, b });
        Assert.Equal(2, new HashSet<Sample> { a, a with { RelativePath = "b.png" } }.Count);
    }
}
