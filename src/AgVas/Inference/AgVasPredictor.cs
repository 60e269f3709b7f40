using AgVas.Data;
using AgVas.Modeling;
using AgVas.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Inference;

/// <summary>One image's result (AGVAS.md §2): the answer text, the per-anchor maps P_seg, P_nor, P_ano, the fused map
/// P = α·P_seg + (1−α)·P_ano and the mask M = P &gt; threshold (with the seed threshold's hysteresis,
/// <see cref="AnomalyMask"/>), all at the image's original size (row-major H×W).</summary>
public sealed class AgVasPrediction
{
    public required string Text { get; init; }
    /// <summary>True when the model did not emit all three anchors and " [NOR] [ANO] [SEG]" was forced at the end.</summary>
    public required bool AnchorsForced { get; init; }
    public required int Width { get; init; }
    public required int Height { get; init; }
    public required float[] PSeg { get; init; }
    public required float[] PNor { get; init; }
    public required float[] PAno { get; init; }
    public required float[] P { get; init; }
    public required BinaryMask Mask { get; init; }
}

/// <summary>Options of <see cref="AgVasPredictor"/>.</summary>
public sealed record PredictorOptions
{
    public int MaxNewTokens { get; init; } = 96;
}

/// <summary>The library entry point for segmentation: images (+ optional questions) → <see cref="AgVasPrediction"/>.
/// Greedy decoding with the KV cache; the anchors' states come from the generation's hidden states by the same rule as
/// in training (<see cref="LlmAnchorStates"/>). A model that stops without all three anchors gets " [NOR] [ANO] [SEG]"
/// appended (teacher-forced through the LLM) and the prediction is flagged <see cref="AgVasPrediction.AnchorsForced"/>.
/// Each call runs under no_grad in its own dispose scope, so memory stays flat over any number of images.</summary>
public sealed class AgVasPredictor
{
    private readonly AgVasModel model;
    private readonly Qwen2Tokenizer tokenizer;
    private readonly PredictorOptions options;
    private readonly int[] stopIds;
    private readonly int[] forcedSuffix;

    public AgVasPredictor(AgVasModel model, Qwen2Tokenizer tokenizer, PredictorOptions? options = null)
    {
        this.model = model;
        this.tokenizer = tokenizer;
        this.options = options ?? new PredictorOptions();
        for (int i = 0; i < model.AnchorIds.Count; i++)
        {
            var id = tokenizer.TokenToId(AnchorTokens.InAnswerOrder[i]);
            if (id != model.AnchorIds[i])
                throw new ArgumentException($"tokenizer maps {AnchorTokens.InAnswerOrder[i]} to {id?.ToString() ?? "nothing"}, the model expects {model.AnchorIds[i]}");
        }
        if (tokenizer.TokenToId(AnchorTokens.Image) != model.Config.ImageTokenId)
            throw new ArgumentException($"tokenizer maps {AnchorTokens.Image} to {tokenizer.TokenToId(AnchorTokens.Image)}, the model expects {model.Config.ImageTokenId}");
        stopIds = new[] { ChatTemplate.ImEnd, ChatTemplate.EndOfText }.Select(tokenizer.TokenToId).OfType<int>().ToArray();
        forcedSuffix = tokenizer.Encode(" " + AnchorTokens.Suffix);
    }

    /// <summary>Predicts a batch of images in one mode. <paramref name="questions"/>: per image, a question replacing the
    /// mode's default (null entries use the default).</summary>
    public IReadOnlyList<AgVasPrediction> Predict(IReadOnlyList<RgbImage> images, InstructionType mode, IReadOnlyList<string?>? questions = null)
    {
        if (images.Count == 0) return [];
        if (questions is not null && questions.Count != images.Count)
            throw new ArgumentException($"{questions.Count} questions for {images.Count} images");
        model.eval();
        using var guard = no_grad();
        using var scope = NewDisposeScope();
        var (semantic, pixel) = AgVasInputs.Images(images, model.Config.Vision);                 // [B, 3, S, S] each
        var (visual, fp) = model.EncodeImages(semantic, pixel);                                  // [B, 2·N_s, D], [B, C, H_p, W_p]
        var ids = images.Select((_, i) => tokenizer.Encode(GenerationPrompts.Prompt(questions?[i] ?? GenerationPrompts.Question(mode)))).ToList();
        using var input = LlmInput.Build(model.Llm, ids, null, model.Config.ImageTokenId, visual);
        var generation = new GenerationOptions
        {
            MaxNewTokens = options.MaxNewTokens, StopIds = stopIds, RequiredIds = model.AnchorIds, ForcedSuffix = forcedSuffix,
        };
        using var result = Generation.Greedy(model.Llm, input.Embeds, input.Mask, generation);
        long b = images.Count, p = input.Ids.shape[1], n = result.Tokens.Max(t => t.Length);
        using Scalar noToken = LlmInput.NoToken;
        var generated = full(b, n, noToken, dtype: ScalarType.Int64);                           // [B, N]
        for (int r = 0; r < b; r++)
            if (result.Tokens[r].Length > 0)
                generated[r, ..result.Tokens[r].Length] = tensor(result.Tokens[r].Select(t => (long)t).ToArray());
        var allIds = cat([input.Ids, generated], dim: 1);                                        // [B, P + N]
        var states = LlmAnchorStates.Select(result.Hidden, allIds, model.AnchorIds);            // [B, 3, D]
        using var decoded = model.DecodeMasks(fp, states);
        var maps = stack([decoded.PSeg, decoded.PNor, decoded.PAno, decoded.P], dim: 1);        // [B, 4, h, w]

        var predictions = new List<AgVasPrediction>(images.Count);
        var agmd = model.Config.Vision.Agmd;
        for (int r = 0; r < b; r++)
        {
            var image = images[r];
            var full4 = SamImageTransform.PostProcess(maps[r..(r + 1)], model.Config.Vision.InputSize,
                image.Height, image.Width)[0];                                                   // [4, H, W]
            float[] Channel(int c) => full4[c].contiguous().data<float>().ToArray();
            var fused = Channel(3);
            predictions.Add(new AgVasPrediction
            {
                Text = tokenizer.Decode(result.Tokens[r]),
                AnchorsForced = result.Forced[r],
                Width = image.Width,
                Height = image.Height,
                PSeg = Channel(0),
                PNor = Channel(1),
                PAno = Channel(2),
                P = fused,
                Mask = AnomalyMask.FromMap(fused, image.Width, image.Height, agmd.Threshold, agmd.SeedThreshold),
            });
        }
        return predictions;
    }
}
