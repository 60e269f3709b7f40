using AgVas.Checkpoints;
using AgVas.Data;
using AgVas.Modeling;
using AgVas.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Inference;

/// <summary>Options of <see cref="AgVasInferenceModel"/>.</summary>
public sealed record PredictorOptions
{
    /// <summary>The most tokens generated per answer before the anchors are forced.</summary>
    public int MaxNewTokens { get; init; } = 96;
}

/// <summary>An AG-VAS model ready for inference: <see cref="AgVasModel"/> with its tokenizer, images (+ optional questions)
/// → <see cref="Prediction"/> (docs/design.md §4–6). Greedy decoding with the KV cache; the anchors' states come from the generation's hidden states by the same rule as
/// in training (<see cref="LlmAnchorStates"/>). A model that stops without all <see cref="Anchors"/> gets " <see cref="Anchors.Suffix"/>"
/// appended (teacher-forced through the LLM) and the prediction is flagged <see cref="Prediction.AnchorsForced"/>.
/// Each call runs under no_grad in its own dispose scope, so memory stays flat over any number of images.
/// Not thread-safe (<see cref="AnomalySegmenter"/> serialises calls); disposing it disposes the model.</summary>
public sealed class AgVasInferenceModel : ISegmentationModel, IDisposable
{
    static AgVasInferenceModel() => HeapTuning.Apply();

    private readonly AgVasModel model;
    private readonly Qwen2Tokenizer tokenizer;
    private readonly PredictorOptions options;
    private readonly int[] stopIds;
    private readonly int[] forcedSuffix;

    /// <summary>Wraps a built model and its tokenizer; throws when the tokenizer's anchor and image ids are not the model's.</summary>
    public AgVasInferenceModel(AgVasModel model, Qwen2Tokenizer tokenizer, PredictorOptions? options = null)
    {
        this.model = model;
        this.tokenizer = tokenizer;
        this.options = options ?? new PredictorOptions();
        for (int i = 0; i < model.AnchorIds.Count; i++)
        {
            var id = tokenizer.TokenToId(Anchors.Tokens[i]);
            if (id != model.AnchorIds[i])
                throw new ArgumentException($"tokenizer maps {Anchors.Tokens[i]} to {id?.ToString() ?? "nothing"}, the model expects {model.AnchorIds[i]}");
        }
        if (tokenizer.TokenToId(ChatTemplate.ImageToken) != model.Config.ImageTokenId)
            throw new ArgumentException($"tokenizer maps {ChatTemplate.ImageToken} to {tokenizer.TokenToId(ChatTemplate.ImageToken)}, the model expects {model.Config.ImageTokenId}");
        stopIds = new[] { ChatTemplate.ImEnd, ChatTemplate.EndOfText }.Select(tokenizer.TokenToId).OfType<int>().ToArray();
        forcedSuffix = tokenizer.Encode(" " + Anchors.Suffix);
    }

    /// <summary>Opens a model directory (<see cref="AgVasModelDirectory"/>); a missing, truncated or inconsistent directory is
    /// a <see cref="CheckpointException"/> (or <see cref="TokenizerException"/>) naming the file.</summary>
    public static AgVasInferenceModel Load(string directory, PredictorOptions? options = null, Func<AgVasConfig, AgVasConfig>? adjust = null)
    {
        var (model, tokenizer) = AgVasModelDirectory.Load(directory, adjust);
        model.eval();
        return new AgVasInferenceModel(model, tokenizer, options);
    }

    /// <summary>The network.</summary>
    public AgVasModel Model => model;
    /// <summary>Its tokenizer, with the anchor tokens.</summary>
    public Qwen2Tokenizer Tokenizer => tokenizer;

    /// <summary>Predicts one image in <paramref name="mode"/>.</summary>
    public Prediction Predict(RgbImage image, InstructionType mode) => Predict([image], mode)[0];

    /// <summary>Predicts a batch of images in one mode. <paramref name="questions"/>: per image, a question replacing the
    /// mode's default (null entries use the default). A ResNet-backbone model with several
    /// <see cref="ResNetEncoderConfig.Scales"/> runs each image at every scale, fuses the four maps by their pixelwise
    /// maximum and draws the mask from the fused map; the text is the answer at <see cref="ResNetEncoderConfig.ImageSize"/>.
    /// With <see cref="ResNetEncoderConfig.Mirror"/> it does the same for each image mirrored left to right and averages
    /// the two sets of maps (the mirrored one flipped back) before the mask is drawn.</summary>
    public IReadOnlyList<Prediction> Predict(IReadOnlyList<RgbImage> images, InstructionType mode, IReadOnlyList<string?>? questions = null)
    {
        if (images.Count == 0) return [];
        if (questions is not null && questions.Count != images.Count)
            throw new ArgumentException($"{questions.Count} questions for {images.Count} images");
        var resnet = model.Config.Vision.ResNet;
        var sizes = resnet?.InferenceSizes ?? [model.Config.Vision.InputSize];
        bool mirror = resnet?.Mirror == true;
        // With Mirror, the mirrored images join the same batch: one pass per scale serves both (the LLM's greedy steps
        // and the small decoder cost about the same for two images as for one).
        IReadOnlyList<RgbImage> batch = mirror ? [.. images, .. images.Select(i => i.FlipHorizontal())] : images;
        IReadOnlyList<string?>? batchQuestions = mirror && questions is not null ? [.. questions, .. questions] : questions;
        var fused = RunScales(batch, mode, batchQuestions, sizes);                       // [image]: maps max-fused over the scales
        if (mirror)
            for (int r = 0; r < images.Count; r++)
            {
                var mirrored = fused[images.Count + r];
                for (int c = 0; c < fused[r].Maps.Length; c++) AverageMirroredInto(fused[r].Maps[c], mirrored.Maps[c], images[r].Width);
                fused[r] = fused[r] with { Forced = fused[r].Forced | mirrored.Forced };
            }
        var agmd = model.Config.Vision.Agmd;
        var predictions = new List<Prediction>(images.Count);
        for (int r = 0; r < images.Count; r++)
        {
            var (image, maps) = (images[r], fused[r].Maps);
            predictions.Add(new Prediction(image.Width, image.Height, maps[0], maps[1], maps[2], maps[3],
                AnomalyMask.FromMap(maps[3], image.Width, image.Height, agmd.Threshold, agmd.SeedThreshold),
                fused[r].Text, fused[r].Forced, mode));
        }
        return predictions;
    }

    /// <summary>Runs <paramref name="images"/> at every side of <paramref name="sizes"/> and fuses each image's four maps by
    /// their pixelwise maximum; the text is the run at the first side, the anchors count as forced if any run forced them.</summary>
    private List<ScaleRun> RunScales(IReadOnlyList<RgbImage> images, InstructionType mode, IReadOnlyList<string?>? questions, IReadOnlyList<int> sizes)
    {
        var fused = Run(images, mode, questions, sizes[0]);
        foreach (var size in sizes.Skip(1))
        {
            var run = Run(images, mode, questions, size);
            for (int r = 0; r < images.Count; r++)
            {
                for (int c = 0; c < fused[r].Maps.Length; c++) MaxInto(fused[r].Maps[c], run[r].Maps[c]);
                fused[r] = fused[r] with { Forced = fused[r].Forced | run[r].Forced };
            }
        }
        return fused;
    }

    /// <summary><paramref name="into"/> ← (into + <paramref name="mirrored"/> mirrored back left to right) / 2, both [H, W] row-major.</summary>
    private static void AverageMirroredInto(float[] into, float[] mirrored, int width)
    {
        for (int row = 0; row < into.Length; row += width)
            for (int x = 0; x < width; x++) into[row + x] = 0.5f * (into[row + x] + mirrored[row + width - 1 - x]);
    }

    private static void MaxInto(float[] into, float[] other)
    {
        for (int i = 0; i < into.Length; i++) into[i] = MathF.Max(into[i], other[i]);
    }

    /// <summary>One scale's answer for one image: P_seg, P_nor, P_ano, P ([H, W] row-major at the image size each), the
    /// generated text and whether the anchors were forced.</summary>
    private sealed record ScaleRun(float[][] Maps, string Text, bool Forced);

    /// <summary>Encodes <paramref name="images"/> at input side <paramref name="size"/>, generates the answers and decodes the maps.</summary>
    private List<ScaleRun> Run(IReadOnlyList<RgbImage> images, InstructionType mode, IReadOnlyList<string?>? questions, int size)
    {
        model.eval();
        using var guard = no_grad();
        using var scope = NewDisposeScope();
        var (semantic, pixel) = AgVasInputs.Images(images, model.Config.Vision, size);           // [B, 3, S, S] each
        var (visual, fp) = model.EncodeImages(semantic, pixel);                                  // [B, 2·N_s, D], [B, C, S/4, S/4]
        var ids = images.Select((_, i) => tokenizer.Encode(GenerationPrompts.Prompt(questions?[i] ?? GenerationPrompts.Question(mode)))).ToList();
        using var input = LlmInput.Build(model.Llm, ids, null, model.Config.ImageTokenId, visual);
        var generation = new GenerationOptions
        {
            MaxNewTokens = options.MaxNewTokens, StopIds = stopIds, RequiredIds = model.AnchorIds, ForcedSuffix = forcedSuffix,
        };
        using var result = Generation.Greedy(model.Llm, input.Embeds, input.Mask, generation);
        long b = images.Count, n = result.Tokens.Max(t => t.Length);
        using Scalar noToken = LlmInput.NoToken;
        var generated = full(b, n, noToken, dtype: ScalarType.Int64);                           // [B, N]
        for (int r = 0; r < b; r++)
            if (result.Tokens[r].Length > 0)
                generated[r, ..result.Tokens[r].Length] = tensor(result.Tokens[r].Select(t => (long)t).ToArray());
        var allIds = cat([input.Ids, generated], dim: 1);                                        // [B, P + N]
        var states = LlmAnchorStates.Select(result.Hidden, allIds, model.AnchorIds);            // [B, A, D]
        using var decoded = model.DecodeMasks(fp, states);
        var maps = stack([decoded.PSeg, decoded.PNor, decoded.PAno, decoded.P], dim: 1);        // [B, 4, h, w]

        var runs = new List<ScaleRun>(images.Count);
        for (int r = 0; r < b; r++)
        {
            var image = images[r];
            var full4 = SamImageTransform.PostProcess(maps[r..(r + 1)], size, image.Height, image.Width)[0]; // [4, H, W]
            runs.Add(new ScaleRun([.. Enumerable.Range(0, 4).Select(c => full4[c].contiguous().data<float>().ToArray())],
                tokenizer.Decode(result.Tokens[r]), result.Forced[r]));
        }
        return runs;
    }

    /// <summary>Disposes the model.</summary>
    public void Dispose() => model.Dispose();
}
