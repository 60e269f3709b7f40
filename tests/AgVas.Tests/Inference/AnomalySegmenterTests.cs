using AgVas.Data;
using AgVas.Inference;
using AgVas.Modeling;
using AgVas.Tests.Training;
using AgVas.Text;
using TorchSharp;

namespace AgVas.Tests.Inference;

public class AnomalySegmenterTests
{
    [Fact]
    public void FusesAnchorMapsWithAlphaAndThresholds()
    {
        float[] seg = [0.9f, 0.2f, 0.6f, 0.0f], nor = [0.1f, 0.9f, 0.6f, 1f], ano = [0.9f, 0.1f, 0.4f, 0f];
        var p = Prediction.FromAnchorMaps(2, 2, seg, nor, ano, "t [NOR] [ANO] [SEG]", true, InstructionType.DirectSegmentation);
        Assert.Equal([0.9f, 0.15f, 0.5f, 0f], p.Map);
        Assert.Equal([true, false, false, false], p.Mask.Data); // P > 0.5, strictly
        Assert.Equal(1, p.AnomalyPixels);
        Assert.Equal(0.25, p.AnomalyFraction);
        Assert.True(p.AnchorsForced);
        var q = Prediction.FromAnchorMaps(2, 2, seg, nor, ano, "", false, InstructionType.DirectSegmentation,
            new AgmdConfig(Alpha: 1, Threshold: 0.1, SeedThreshold: 0.1));
        Assert.Equal(seg, q.Map);
        Assert.Equal([true, true, true, false], q.Mask.Data);
        Assert.Throws<ArgumentException>(() => Prediction.FromAnchorMaps(3, 2, seg, nor, ano, "", false, InstructionType.DirectSegmentation));
        // A seed threshold above every value of P empties the mask (hysteresis, AnomalyMask).
        var r = Prediction.FromAnchorMaps(2, 2, seg, nor, ano, "", false, InstructionType.DirectSegmentation, new AgmdConfig(SeedThreshold: 0.95));
        Assert.Equal(0, r.AnomalyPixels);
        Assert.Equal(p.Map, r.Map);
    }

    [Fact]
    public void ConcurrentCallersGetTheSequentialResults()
    {
        var source = new BlobSource(12, 40, 3);
        var images = Enumerable.Range(0, 12).Select(i => source.Load(i).Image).ToArray();
        using var segmenter = new AnomalySegmenter(new TinyConvSegmenter(2));
        var sequential = images.Select(i => segmenter.Segment(i)).ToArray();
        var parallel = new Prediction[images.Length];
        Parallel.For(0, images.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => parallel[i] = segmenter.Segment(images[i]));
        for (int i = 0; i < images.Length; i++)
        {
            Assert.Equal(sequential[i].Map, parallel[i].Map);
            Assert.Equal(sequential[i].Mask.Data, parallel[i].Mask.Data);
            Assert.Equal(sequential[i].PSeg, parallel[i].PSeg);
            Assert.Equal(sequential[i].Text, parallel[i].Text);
        }
    }

    [Fact]
    public void AcceptsFilesStreamsAndBuffersAlike()
    {
        var dir = Directory.CreateTempSubdirectory("agvas-seg-").FullName;
        try
        {
            var image = new BlobSource(1, 30, 9, normalRatio: 0).Load(0).Image;
            var path = Path.Combine(dir, "a.png");
            ImageIO.SaveRgbPng(image, path);
            using var segmenter = new AnomalySegmenter(new TinyConvSegmenter(2), InstructionType.SegmentThenExplain);
            var fromFile = segmenter.Segment(path);
            using var stream = File.OpenRead(path);
            var fromStream = segmenter.Segment(stream, "a.png");
            var fromBuffer = segmenter.Segment(new RgbImage(image.Width, image.Height, image.Pixels));
            Assert.Equal(fromFile.Map, fromStream.Map);
            Assert.Equal(fromFile.Map, fromBuffer.Map);
            Assert.Equal((30, 30), (fromFile.Width, fromFile.Height));
            Assert.Equal(InstructionType.SegmentThenExplain, fromFile.Mode);
            Assert.Equal(InstructionType.DirectSegmentation, segmenter.Segment(image, InstructionType.DirectSegmentation).Mode);

            File.WriteAllBytes(Path.Combine(dir, "bad.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
            var e = Assert.Throws<DataException>(() => segmenter.Segment(Path.Combine(dir, "bad.png")));
            Assert.Contains("bad.png", e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void PredictLeavesNoLiveTensors()
    {
        var image = new BlobSource(1, 30, 9).Load(0).Image;
        using var segmenter = new AnomalySegmenter(new TinyConvSegmenter(2));
        segmenter.Segment(image);
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        segmenter.Segment(image);
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
