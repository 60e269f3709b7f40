using AgVas.Inference;
using AgVas.Modeling;
using AgVas.Tests.Modeling;
using AgVas.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Tests.Inference;

public class AgVasInferenceModelTests
{
    [Fact]
    public void PredictsMapsAtTheOriginalSizeAndForcesMissingAnchors()
    {
        var (model, tokenizer) = AgVasModelTests.Tiny(10);
        using var _ = model;
        var predictor = new AgVasInferenceModel(model, tokenizer, new PredictorOptions { MaxNewTokens = 12 });
        var images = new[] { AgVasModelTests.RandomImage(90, 60, 3), AgVasModelTests.RandomImage(40, 70, 4) };
        foreach (var mode in Enum.GetValues<InstructionType>())
        {
            var predictions = predictor.Predict(images, mode);
            Assert.Equal(2, predictions.Count);
            for (int i = 0; i < 2; i++)
            {
                var p = predictions[i];
                Assert.Equal((images[i].Width, images[i].Height), (p.Width, p.Height));
                Assert.Equal(p.Width * p.Height, p.Map.Length);
                Assert.All(p.Map, v => Assert.InRange(v, 0f, 1f));
                for (int k = 0; k < p.Map.Length; k += 97)
                {
                    Assert.Equal(0.5f * p.PSeg[k] + 0.5f * p.PAno[k], p.Map[k], 4);
                    Assert.Equal(p.Map[k] > 0.5f, p.Mask.Data[k]);
                }
                // A random model does not emit the anchors: they are forced at the end and flagged.
                Assert.True(p.AnchorsForced);
                Assert.EndsWith(Anchors.Suffix, p.RawText);
            }
        }
    }

    [Fact]
    public void BatchGivesTheSameResultAsSingleImagesAndLeaksNothing()
    {
        var (model, tokenizer) = AgVasModelTests.Tiny(11);
        using var _ = model;
        var predictor = new AgVasInferenceModel(model, tokenizer, new PredictorOptions { MaxNewTokens = 8 });
        var a = AgVasModelTests.RandomImage(64, 48, 5);
        var b = AgVasModelTests.RandomImage(48, 64, 6);
        string?[] questions = [null, "Is anything wrong here?"];
        var batch = predictor.Predict([a, b], InstructionType.DirectSegmentation, questions);
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var single = predictor.Predict([b], InstructionType.DirectSegmentation, [questions[1]]);
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.Equal(single[0].Text, batch[1].Text);
        double maxDiff = single[0].Map.Zip(batch[1].Map, (x, y) => Math.Abs(x - y)).Max();
        Assert.True(maxDiff < 1e-4, $"max |ΔP| {maxDiff}");
    }
}
