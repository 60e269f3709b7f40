using AgVas.Inference;
using AgVas.Modeling;
using AgVas.Tests.Training;
using AgVas.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Tests.Modeling;

/// <summary>
/// The forward and inference code keeps every TorchSharp <see cref="Scalar"/> it passes to libtorch alive until the call
/// returns (see <see cref="SamImageTransform"/>): a temporary Scalar from an implicit number conversion can be finalised
/// by a collection on another thread while libtorch still reads it ("Exception raised from toDouble", seen in
/// <c>agvas predict</c>). These tests run the pre-processing and the tiny model while another thread collects and runs
/// finalisers in a loop: every pass must succeed and give the first pass's result exactly. Serial, so the collecting
/// thread slows no other test.
/// </summary>
[Collection(SerialTrainingCollection.Name)]
public class ScalarLifetimeTests
{
    /// <summary>Runs <paramref name="body"/> while a background thread makes finalisable Scalars and forces collections.</summary>
    private static void UnderGcPressure(Action body)
    {
        using var stop = new CancellationTokenSource();
        var collector = Task.Factory.StartNew(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                for (int i = 0; i < 64; i++) _ = (Scalar)(double)i;   // left to the finaliser on purpose
                GC.Collect();
                GC.WaitForPendingFinalizers();
                Thread.Sleep(1);
            }
        }, TaskCreationOptions.LongRunning);
        try { body(); }
        finally
        {
            stop.Cancel();
            collector.Wait();
        }
    }

    [Fact]
    public void PreProcessingGivesTheSameTensorUnderCollections()
    {
        using var scope = NewDisposeScope();
        var image = AgVasInputs.ImageTensor(AgVasModelTests.RandomImage(37, 29, 1));                // [1, 3, 29, 37]
        var siglip = Values(SamImageTransform.SiglipPreProcess(image, 32));                          // [1, 3, 32, 32]
        var sam = Values(SamImageTransform.PreProcess(image, 64));                                   // [1, 3, 64, 64]
        UnderGcPressure(() =>
        {
            for (int i = 0; i < 400; i++)
            {
                using var pass = NewDisposeScope();
                Assert.Equal(siglip, Values(SamImageTransform.SiglipPreProcess(image, 32)));
                Assert.Equal(sam, Values(SamImageTransform.PreProcess(image, 64)));
            }
        });
    }

    private static float[] Values(Tensor t) => t.data<float>().ToArray();

    [Fact]
    public void TinyModelPredictsAndComputesItsLossIdenticallyUnderCollections()
    {
        var (model, tokenizer) = AgVasModelTests.Tiny(21);
        using var _ = model;
        var predictor = new AgVasInferenceModel(model, tokenizer, new PredictorOptions { MaxNewTokens = 6 });
        var image = AgVasModelTests.RandomImage(48, 40, 2);
        var first = predictor.Predict([image], InstructionType.DirectSegmentation)[0];
        float firstLoss = TinyLoss(model, tokenizer, image);
        UnderGcPressure(() =>
        {
            var p = predictor.Predict([image], InstructionType.DirectSegmentation)[0];
            Assert.Equal(first.Text, p.Text);
            Assert.Equal(first.Map, p.Map);
            Assert.Equal(first.PSeg, p.PSeg);
            Assert.Equal(first.Mask.Data, p.Mask.Data);
            Assert.Equal(firstLoss, TinyLoss(model, tokenizer, image));
        });
    }

    /// <summary>The teacher-forced loss (LLM, SPAM, AGMD, segmentation loss) of one example.</summary>
    private static float TinyLoss(AgVasModel model, Qwen2Tokenizer tokenizer, AgVas.Data.RgbImage image)
    {
        using var scope = NewDisposeScope();
        using var guard = no_grad();
        var (semantic, pixel) = AgVasInputs.Images([image], model.Config.Vision);
        var mask = new AgVas.Data.BinaryMask(image.Width, image.Height);
        for (int k = 0; k < mask.Data.Length; k += 3) mask.Data[k] = true;
        var masks = AgVasInputs.Masks([mask], model.Config.Vision.PixelEncoder.ImageSize);
        var encoded = ChatTemplate.EncodeForTraining(tokenizer,
            [new("user", "<image>\nIs there any anomaly?"), new("assistant", "Yes. [NOR] [ANO] [SEG]")]);
        using var loss = model.Loss(semantic, pixel, masks, [encoded.Ids], [encoded.IsTarget]);
        return loss.Total.item<float>();
    }
}
