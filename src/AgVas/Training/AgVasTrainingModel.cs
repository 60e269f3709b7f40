using AgVas.Checkpoints;
using AgVas.Data;
using AgVas.Inference;
using AgVas.Modeling;
using AgVas.Text;
using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace AgVas.Training;

/// <summary>
/// <see cref="AgVasModel"/> as the training loop and the validator see it: a batch of loaded examples becomes the two
/// encoder inputs, the masks in the pixel encoder's frame and the ChatML ids of each conversation (with LLaVA-OneVision's
/// system turn, as <see cref="GenerationPrompts"/> asks at inference); the model's L_txt and per-anchor BCE/Dice are
/// weighted by the config's loss weights. It wraps the inference model, which predicts (<see cref="AgVasInferenceModel"/>).
/// </summary>
public sealed class AgVasTrainingModel(AgVasInferenceModel inference) : ITrainableModel, ISegmentationModel, IDisposable
{
    static AgVasTrainingModel() => HeapTuning.Apply();

    /// <summary>Text tokens per example assumed by <see cref="TrainingFlopsPerExample"/> (prompt + answer).</summary>
    public const int AssumedTextTokens = 64;

    public AgVasInferenceModel Inference { get; } = inference;
    public AgVasModel Model => Inference.Model;
    public Qwen2Tokenizer Tokenizer => Inference.Tokenizer;
    public nn.Module Module => Model;

    public IReadOnlyList<(string Name, Parameter Parameter)> TrainableParameters() => Model.TrainableParameters();

    public TrainingLoss Loss(IReadOnlyList<LoadedExample> batch, LossWeights weights)
    {
        using var scope = NewDisposeScope();
        var vision = Model.Config.Vision;
        var (semantic, pixel) = AgVasInputs.Images(batch.Select(e => e.Image).ToList(), vision);    // [B, 3, S_s, S_s], [B, 3, S_p, S_p]
        var masks = AgVasInputs.Masks(batch.Select(e => e.Mask).ToList(), vision.InputSize); // [B, S_p, S_p]
        var encoded = batch.Select(e => ChatTemplate.EncodeForTraining(Tokenizer,
            [new ChatMessage("system", ChatTemplate.DefaultSystem), .. e.Example.Messages])).ToList();
        var loss = Model.Loss(semantic, pixel, masks, encoded.Select(x => x.Ids).ToList(), encoded.Select(x => x.IsTarget).ToList(), weights);
        var s = loss.Segmentation;
        var total = loss.Total;                                                                                // []
        static double V(Tensor t) => t.item<float>();
        var parts = new LossParts(V(total), V(loss.Text), V(s.BceNor), V(s.BceAno), V(s.BceSeg), V(s.DiceNor), V(s.DiceAno), V(s.DiceSeg), V(s.HardBce));
        return new TrainingLoss(total.MoveToOuterDisposeScope(), parts);
    }

    /// <summary>
    /// Model FLOPs of one training example, counting matmuls as 2 FLOPs per weight per token: the frozen encoders run
    /// forward only (2·N·tokens); the LLM runs forward and back-propagates to its inputs and LoRA (about 4·N·T, its
    /// weights being frozen); the trainable SPAM, Token Refiner and AGMD count 6·N per token of their inputs. Attention
    /// score products are left out, as in nanoGPT's estimate. T = 2·N_s visual tokens + <see cref="AssumedTextTokens"/>.
    /// When everything trains (<see cref="AgVasModel.TrainsEverything"/>), every part counts 6·N per token.
    /// </summary>
    public double TrainingFlopsPerExample
    {
        get
        {
            static double Count(nn.Module m) => m.parameters().Sum(p => (double)p.numel());
            var v = Model.Config.Vision;
            double ns = v.NumSemanticTokens;
            double np = v.PixelGridSize * (double)v.PixelGridSize;
            double t = 2 * ns + AssumedTextTokens;
            double llm = Count(Model.Llm) - Model.Llm.VocabSize * (double)Model.Llm.Config.HiddenSize * (Model.Llm.Config.TieWordEmbeddings ? 1 : 2);
            double heads = 6 * (Count(Model.Vision.Spam) * ns + (Count(Model.Vision.TokenRefiner) + Count(Model.Vision.Agmd)) * np);
            if (v.ResNet is { } r)
            {
                // The frozen backbone runs forward only; projector and neck train (6·N per token of their inputs).
                double backbone = ResNet18.Flops(r.ImageSize, r.ImageSize);
                double trained = 6 * Count(Model.Vision.Projector) * ns + 6 * Count(Model.Vision.PixelNeck) * np;
                return backbone + trained + (Model.TrainsEverything ? 6 : 4) * llm * t + heads;
            }
            double encoders = 2 * Count(Model.Vision.SemanticEncoder) * ns + 2 * Count(Model.Vision.Projector) * ns + 2 * Count(Model.Vision.PixelEncoder) * np;
            return Model.TrainsEverything ? 3 * encoders + 6 * llm * t + heads : encoders + 4 * llm * t + heads;
        }
    }

    public Prediction Predict(RgbImage image, InstructionType mode) => Inference.Predict(image, mode);

    public void Save(string directory) => AgVasModelDirectory.Save(directory, Model, Tokenizer);

    /// <summary>Opens a model directory (<see cref="AgVasModelDirectory"/>).</summary>
    public static AgVasTrainingModel Load(string directory, PredictorOptions? options = null, Func<AgVasConfig, AgVasConfig>? adjust = null) =>
        new(AgVasInferenceModel.Load(directory, options, adjust));

    /// <summary>A fresh model of a preset with random weights (seeded); only <c>tiny</c> ships its tokenizer.</summary>
    public static AgVasTrainingModel Create(string preset, long seed, PredictorOptions? options = null)
    {
        if (!preset.StartsWith("tiny", StringComparison.Ordinal))
            throw new ModelConfigException("model.preset", $"'{preset}' needs its tokenizer and pretrained weights: make a model directory with " +
                $"`agvas model init --preset {preset} --tokenizer <tokenizer.json>` (or from a LLaVA-OneVision checkpoint) and give it as model.base");
        var config = AgVasConfig.Preset(preset);
        var tokenizer = Qwen2Tokenizer.Tiny();
        LlavaOnevisionCheckpoint.AddAnchors(tokenizer, config.Llm.VocabSize, "tiny tokenizer");
        manual_seed(seed);
        return new AgVasTrainingModel(new AgVasInferenceModel(new AgVasModel(config), tokenizer, options));
    }

    public void Dispose() => Inference.Dispose();
}
