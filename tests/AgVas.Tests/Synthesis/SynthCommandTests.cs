using System.CommandLine;
using AgVas.Cli.Commands;
using AgVas.Data;

namespace AgVas.Tests.Synthesis;

public class SynthCommandTests
{
    private static int Run(params string[] args)
    {
        var root = new RootCommand { SynthCommand.Create(), CurateCommand.Create() };
        return root.Parse(args).Invoke();
    }

    [Fact]
    public void SynthThenCurateEndToEnd()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"agvas-cli-{Guid.NewGuid():N}");
        try
        {
            Assert.Equal(0, Run("synth", "--normals", "procedural", "--out", dir, "--count", "10", "--size", "48", "--seed", "3",
                "--kinds", "scratch,stain", "--normal-ratio", "0.3", "--preview", "--threads", "2"));
            Assert.True(File.Exists(Path.Combine(dir, "contact_sheet.png")));
            var samples = Datasets.Load(Path.Combine(dir, "manifest.csv"));
            Assert.Equal(10, samples.Count);
            Assert.All(samples.Where(s => s.IsAnomalous), s => Assert.Contains(s.Defect, new[] { "scratch", "stain" }));
            var jsonl = Path.Combine(dir, "instruct.jsonl");
            Assert.Equal(0, Run("curate", "--data", Path.Combine(dir, "manifest.csv"), "--out", jsonl, "--seed", "1"));
            Assert.Equal(10, File.ReadAllLines(jsonl).Length);
            Assert.Equal(0, Run("curate", "--data", Path.Combine(dir, "manifest.csv"), "--out", jsonl, "--anomalous-only"));
            Assert.Equal(samples.Count(s => s.IsAnomalous), File.ReadAllLines(jsonl).Length);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void CorruptNormalImageIsADataErrorNamingTheFile()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"agvas-bad-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(dir);
            File.WriteAllBytes(Path.Combine(dir, "broken.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
            var source = AgVas.Synthesis.ImageFileSource.FromSamples(dir, Datasets.Load(dir));
            var synth = new AgVas.Synthesis.AnomalySynthesizer([source], new AgVas.Synthesis.SynthesisOptions(Size: 32));
            var e = Assert.Throws<DataException>(() => AgVas.Synthesis.AnomalySegWriter.Write(synth, 4, Path.Combine(dir, "out"), 2));
            Assert.Contains("broken.png", e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void BadInputGivesOneLineErrors()
    {
        var err = new StringWriter();
        var old = Console.Error;
        Console.SetError(err);
        try
        {
            Assert.Equal(1, Run("synth", "--normals", "/nonexistent/normals", "--out", "/tmp/x", "--count", "2"));
            Assert.Equal(1, Run("synth", "--normals", "procedural", "--out", "/tmp/x", "--count", "2", "--kinds", "smudge"));
            Assert.Equal(1, Run("curate", "--data", "/nonexistent/data.csv", "--out", "/tmp/x.jsonl"));
        }
        finally { Console.SetError(old); }
        var lines = err.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Contains("/nonexistent/normals", lines[0]);
        Assert.Contains("smudge", lines[1]);
        Assert.Contains("/nonexistent/data.csv", lines[2]);
    }
}
