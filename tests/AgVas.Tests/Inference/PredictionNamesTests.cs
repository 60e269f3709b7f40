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
}
