using AgVas.Inference;

namespace AgVas.Tests.Inference;

/// <summary>The output naming rule (<see cref="PredictionFiles.Stems"/>): never two images on one name, even on a file
/// system that ignores case; an image whose stem nobody shares keeps the plain name eval has always read.</summary>
public class PredictionNamesTests
{
    [Fact]
    public void PlainStemsWhenNothingCollides() =>
        Assert.Equal(["a/b/000", "a/b/001", "c"], PredictionFiles.Stems(["a/b/000.png", "a/b/001.jpg", "c.bmp"]));

    [Fact]
    public void ImagesSharingAStemKeepTheirExtension() =>
        Assert.Equal(["x.jpg", "x.png", "X.bmp", "y"], PredictionFiles.Stems(["x.jpg", "x.png", "X.bmp", "y.png"]));

    [Fact]
    public void NamesStillTakenAreNumberedWithoutStealingAnotherImagesName()
    {
        // "x.jpg.png" has the plain stem "x.jpg", the very name "x.jpg" gets by keeping its extension.
        var stems = PredictionFiles.Stems(["x.jpg", "x.png", "x.jpg.png", "x.jpg-2.png"]);
        Assert.Equal(4, stems.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.Equal(["x.jpg", "x.png", "x.jpg-3", "x.jpg-2"], stems);
    }

    [Fact]
    public void PathsAreRelativeAndForwardSlashed()
    {
        var p = PredictionFiles.PathsOf("a/b/x.jpg", overlay: true);
        Assert.Equal(new PredictionPaths("a/b/x.jpg.npy", "a/b/x.jpg_mask.png", "a/b/x.jpg_overlay.png"), p);
        Assert.Null(PredictionFiles.PathsOf("x", overlay: false).Overlay);
    }

    [Fact]
    public void ARecordReadBackIsWrittenAsItWasRead()
    {
        var line = """{"image":"a.png","mask":"a_mask.png","map":"a.npy","overlay":null,"score":0.25,"text":"t","mode":"DirectSegmentation"}""";
        var r = PredictionRecord.TryParse(line)!;
        Assert.Equal(new PredictionPaths("a.npy", "a_mask.png", null), r.Files);
        Assert.Equal(line, r.ToJson());
        Assert.Null(PredictionRecord.TryParse("""{"image":"a.png","ma"""));
    }

    /// <summary>Of x.jpg and x.png the run named x.png's outputs x.png.*; when x.jpg failed and only x.png is evaluated
    /// (as agvas test does), the rule alone would look for x.npy: the names recorded in results.jsonl win.</summary>
    [Fact]
    public void EvalFindsTheNamesTheRunRecorded()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["pred/results.jsonl"],
            """{"image":"x.jpg","error":"x.jpg: truncated"}""" + "\n" + """{"image":"x.png","mask":"x.png_mask.png","map":"x.png.npy","overlay":null,"score":0.5}""" + "\n");
        var predictions = new AgVas.Evaluation.PredictionDirectory(dir["pred"]);
        var sample = new AgVas.Data.Sample(dir["data/x.png"], "x.png", "c", false, []);
        File.WriteAllBytes(dir["pred/x.png.npy"], []);
        File.WriteAllBytes(dir["pred/x.png_mask.png"], []);
        Assert.Equal(AgVas.Evaluation.IouSource.PredictedMasks, predictions.Check([sample]));
        Assert.Equal(Path.Combine(predictions.Root, "x.png.npy"), predictions.MapPath(sample));
        Assert.Equal(Path.Combine(predictions.Root, "x.png_mask.png"), predictions.MaskPath(sample));
    }
}
