using AgVas.Data;
using AgVas.Evaluation;
using AgVas.Inference;
using AgVas.Tests.Training;
using AgVas.Training;

namespace AgVas.Tests.Inference;

[Collection(SerialTrainingCollection.Name)]
public sealed class PredictAndTestTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("agvas-predict-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void PredictWritesWhatEvalReadsAndSkipsUnreadableImages()
    {
        var data = Path.Combine(dir, "data");
        new BlobSource(6, 36, 4).WriteMvtec(data);
        Directory.CreateDirectory(Path.Combine(data, "blobs", "test", "good"));
        File.WriteAllBytes(Path.Combine(data, "blobs", "test", "good", "zz_broken.png"), [0x89, 0x50, 0x4E, 0x47, 0, 0]);
        var samples = Datasets.Load(data);
        using var segmenter = new AnomalySegmenter(new TinyConvSegmenter(3));
        var outDir = Path.Combine(dir, "pred");
        var summary = DatasetPredictor.Run(segmenter, samples, outDir);

        Assert.Equal(samples.Count, summary.Records.Count);
        var failure = Assert.Single(summary.Failures);
        Assert.EndsWith("zz_broken.png", failure.Image);
        Assert.Contains("zz_broken.png", failure.Error);
        var predictions = new PredictionDirectory(outDir);
        foreach (var sample in samples.Where(s => !s.ImagePath.EndsWith("zz_broken.png")))
        {
            var map = Npy.Read(predictions.MapPath(sample));
            Assert.Equal(NpyType.Float32, map.Type);
            Assert.Equal([36, 36], map.Shape);
            var mask = ImageIO.LoadMask(predictions.MaskPath(sample));
            var expected = segmenter.Segment(sample.ImagePath);
            Assert.Equal(expected.Map, map.ToSingle());
            Assert.Equal(expected.Mask.Data, mask.Data);
        }
        var lines = File.ReadAllLines(Path.Combine(outDir, PredictionFiles.ResultsFile));
        Assert.Equal(samples.Count, lines.Length);
        Assert.Contains(lines, l => l.Contains("\"error\"") && l.Contains("zz_broken.png"));
        Assert.All(lines.Where(l => !l.Contains("\"error\"")), l => Assert.Contains("\"anchors_forced\":false", l));
    }

    [Fact]
    public void AShardDeletesOnlyItsOwnTemporaryFilesNotThoseOfShardsRunningBesideIt()
    {
        var data = Path.Combine(dir, "data");
        new BlobSource(6, 36, 4).WriteMvtec(data);
        var samples = Datasets.Load(data);
        using var segmenter = new AnomalySegmenter(new TinyConvSegmenter(3));
        var outDir = Path.Combine(dir, "pred");
        var shard = new ShardSpec(0, 2);
        var stems = PredictionFiles.Stems([.. samples.Select(s => s.RelativePath)]);
        var key = ShardSpec.KeyFor(batchContext: false);
        var (mine, theirs) = (Enumerable.Range(0, samples.Count).First(i => shard.Contains(samples[i], key)),
            Enumerable.Range(0, samples.Count).First(i => !shard.Contains(samples[i], key)));
        string TemporaryFor(string relative) => Path.Combine(outDir, Path.GetDirectoryName(relative)!,
            $".{Path.GetFileName(relative)}.{Guid.NewGuid():N}.tmp");
        var own = TemporaryFor(PredictionFiles.PathsOf(stems[mine], false).Mask);       // left by a killed run of this shard
        var other = TemporaryFor(PredictionFiles.PathsOf(stems[theirs], false).Mask);   // being written by shard 1 right now
        var otherManifest = TemporaryFor("agvas-run.shard-1-of-2.json");
        foreach (var f in new[] { own, other, otherManifest })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(f)!);
            File.WriteAllBytes(f, [1]);
        }

        DatasetPredictor.Run(segmenter, samples, outDir, shard: shard, existing: ExistingOutput.Resume);

        Assert.False(File.Exists(own));
        Assert.True(File.Exists(other));
        Assert.True(File.Exists(otherManifest));
    }

    /// <summary>A run killed while writing its first manifest leaves only a temporary file: the folder still counts as
    /// empty (no --overwrite needed), and the run deletes the file.</summary>
    [Fact]
    public void AFolderHoldingOnlyAKilledRunsTemporaryFileIsEmptyAndTheRunDeletesIt()
    {
        var data = Path.Combine(dir, "data");
        new BlobSource(2, 36, 4).WriteMvtec(data);
        var outDir = Path.Combine(dir, "pred");
        Directory.CreateDirectory(outDir);
        var stray = Path.Combine(outDir, $".agvas-run.json.{Guid.NewGuid():N}.tmp");
        File.WriteAllBytes(stray, [1]);
        using var segmenter = new AnomalySegmenter(new TinyConvSegmenter(3));

        DatasetPredictor.Run(segmenter, Datasets.Load(data), outDir, existing: ExistingOutput.Refuse);

        Assert.False(File.Exists(stray));
        Assert.True(File.Exists(Path.Combine(outDir, PredictionFiles.ResultsFile)));
    }

    [Fact]
    public void EmptyDatasetIsAClearError()
    {
        using var segmenter = new AnomalySegmenter(new TinyConvSegmenter(3));
        Assert.Contains("empty dataset", Assert.Throws<DataException>(() => DatasetPredictor.Run(segmenter, [], dir)).Message);
        Directory.CreateDirectory(Path.Combine(dir, "empty"));
        Assert.Contains("empty dataset", Assert.Throws<DataException>(() => Datasets.Load(Path.Combine(dir, "empty"))).Message);
    }

    /// <summary>The loop end to end on a stand-in model: a short run lowers the loss, and testing the trained model gives
    /// metrics far above the untrained one (same architecture and initialisation).</summary>
    [Fact]
    public void TrainingThenTestingBeatsTheUntrainedModel()
    {
        var test = Path.Combine(dir, "test");
        new BlobSource(16, 40, seed: 99, normalRatio: 0.4).WriteMvtec(test);
        var samples = Datasets.Load(test);

        TestResult Score(TinyConvSegmenter model, string name)
        {
            using var segmenter = new AnomalySegmenter(model, ownsModel: false);
            return ModelTester.Run(segmenter, samples, Path.Combine(dir, name));
        }

        using var untrained = new TinyConvSegmenter(1);
        var before = Score(untrained, "before").Report.Mean;

        var config = TrainerTests.Config(steps: 100, checkpointEvery: 0, lr: 0.05, accum: 1) with
        {
            Data = new DataSection { Sources = [new DataSourceConfig { Name = "blobs" }], Validation = new DataSourceConfig { Path = test } },
            Output = new OutputSection { ValidateEvery = 50 },
        };
        using var model = new TinyConvSegmenter(1);
        var run = Path.Combine(dir, "run");
        var validator = new SegmentationValidator(samples, run);
        var result = new Trainer(config, model, TrainerTests.Blobs(config), run, validator, new TrainerOptions { PeakFlops = 1e10 }).Run(resume: false);
        Assert.True(result.LastLoss!.Total < result.FirstLoss!.Total);
        var after = Score(model, "after");
        var m = after.Report.Mean;

        Assert.True(m.Ap > before.Ap + 0.3 && m.Ap > 0.6, $"AP {before.Ap:F3} → {m.Ap:F3}");
        Assert.True(m.IouAno > before.IouAno + 0.3, $"IoU_ano {before.IouAno:F3} → {m.IouAno:F3}");
        Assert.True(m.Average > before.Average, $"Average {before.Average:F3} → {m.Average:F3}");
        Assert.True(File.Exists(Path.Combine(dir, "after", ReportWriter.JsonFile)));
        // Validation ran at steps 20 and 40 and was logged.
        var log = File.ReadAllLines(Path.Combine(run, TrainingLog.FileName));
        Assert.Equal(2, log.Count(l => l.Contains("\"validation\"")));
    }
}
