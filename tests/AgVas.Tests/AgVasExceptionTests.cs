namespace AgVas.Tests;

public sealed class AgVasExceptionTests
{
    /// <summary>Every exception type of the library derives from <see cref="AgVasException"/>, so one catch reports them all.</summary>
    [Fact]
    public void EveryLibraryExceptionDerivesFromTheBase()
    {
        var types = typeof(AgVasException).Assembly.GetTypes()
            .Where(t => typeof(Exception).IsAssignableFrom(t) && t != typeof(AgVasException)).ToList();
        Assert.True(types.Count >= 7, string.Join(", ", types.Select(t => t.Name)));
        Assert.All(types, t => Assert.True(t.IsSubclassOf(typeof(AgVasException)), t.FullName));
    }

    [Fact]
    public void TheMessageNamesTheFileAndTheProblem()
    {
        var e = new AgVas.Data.DataException("a/b.png", "truncated PNG");
        Assert.Equal("a/b.png", e.File);
        Assert.Equal("truncated PNG", e.Problem);
        Assert.Equal("a/b.png: truncated PNG", e.Message);
        var mismatch = new AgVas.Checkpoints.CheckpointMismatchException("m.safetensors", ["x"], [], []);
        Assert.Equal("m.safetensors: checkpoint does not match the model (1 missing: x)", mismatch.Message);
    }
}
