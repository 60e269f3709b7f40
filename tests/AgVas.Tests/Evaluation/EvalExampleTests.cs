using System.CommandLine;
using System.Text.Json;
using AgVas.Cli.Commands;

namespace AgVas.Tests.Evaluation;

/// <summary>
/// The README's eval example on the shipped samples/eval-example, against the metrics that
/// tools/golden/eval_reference.py (scikit-learn, scikit-image, PyTorch resize) computed from the same files.
/// </summary>
public class EvalExampleTests
{
    [Fact]
    public void ReadmeCommandMatchesTheReferenceImplementation()
    {
        var repo = Repository.Root;
        using var dir = new TempDir();
        var root = new RootCommand();
        root.Subcommands.Add(EvalCommand.Create());
        var error = new StringWriter();
        int code = root.Parse(["eval", "--data", Path.Combine(repo, "samples/eval-example/manifest.csv"),
                "--pred", Path.Combine(repo, "samples/eval-example/pred"), "--out", dir.Path, "--resize-maps"])
            .Invoke(new InvocationConfiguration { Output = new StringWriter(), Error = error });
        Assert.True(code == 0, error.ToString());

        using var got = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "metrics.json")));
        using var want = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "Evaluation", "eval_example_expected.json")));
        var wantCategories = want.RootElement.GetProperty("categories").EnumerateObject().ToList();
        Assert.Equal(wantCategories.Select(c => c.Name), got.RootElement.GetProperty("categories").EnumerateObject().Select(c => c.Name));
        foreach (var c in wantCategories)
            AssertSameValues(c.Name, c.Value, got.RootElement.GetProperty("categories").GetProperty(c.Name));
        AssertSameValues("mean", want.RootElement.GetProperty("mean"), got.RootElement.GetProperty("mean"));
    }

    private static void AssertSameValues(string where, JsonElement want, JsonElement got)
    {
        Assert.Equal(want.EnumerateObject().Select(p => p.Name), got.EnumerateObject().Select(p => p.Name));
        foreach (var p in want.EnumerateObject())
        {
            var g = got.GetProperty(p.Name);
            Assert.True(p.Value.ValueKind == g.ValueKind, $"{where}/{p.Name}: expected {p.Value}, got {g}");
            if (p.Value.ValueKind != JsonValueKind.Number) continue;
            // category_01's maps are resized, and our resize matches PyTorch's to 1 ulp: its threshold may differ by as much.
            if (p.Name == "f1_threshold") Assert.True(Math.Abs(p.Value.GetDouble() - g.GetDouble()) <= 1e-6 * Math.Abs(p.Value.GetDouble()), $"{where}/{p.Name}: expected {p.Value}, got {g}");
            else Assert.True(Math.Abs(p.Value.GetDouble() - g.GetDouble()) < 1e-9, $"{where}/{p.Name}: expected {p.Value}, got {g}");
        }
    }
}
