using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AgVas.Modeling;

/// <summary>AG-VAS (docs/design.md §3): the vision side (SigLIP F_s + projector, SAM F_p, SPAM, Token Refiner, AGMD) around the
/// Qwen2 LLM with LoRA and the three anchor tokens. Freezing policy: encoders, projector and the LLM's pretrained weights
/// are frozen; the anchor rows (<see cref="LlmAddedTokens"/>), LoRA, SPAM, the refiner and AGMD train. Trainable
/// parameters are chosen by module membership (<see cref="TrainableParameters"/>). A model trained from scratch
/// (the embedded tiny one) trains everything instead (<see cref="TrainEverything"/>).</summary>
public sealed class AgVasModel : nn.Module
{
    private readonly VisionSide vision;
    private readonly LlmWithAnchors llm;

    static AgVasModel() => LibTorchSettings.DisableNnpack();        // silences libtorch's per-conv NNPACK warning

    /// <summary>Builds the modules with random weights (no disk access); load weights separately.</summary>
    public AgVasModel(AgVasConfig config) : base(nameof(AgVasModel))
    {
        Config = config.Validate();
        vision = VisionBuilder.Build(config.Vision);
        llm = new LlmWithAnchors("llm", config.Llm, config.Lora);
        RegisterComponents();
        foreach (var p in llm.LanguageModel.BaseParameters()) p.requires_grad = false;
        SegmentationLoss = new SegmentationLoss(config.Vision.Loss);
    }

    public AgVasConfig Config { get; }
    public VisionSide Vision => vision;
    public LlmWithAnchors Llm => llm;
    public SegmentationLoss SegmentationLoss { get; }

    /// <summary>True after <see cref="TrainEverything"/>: every weight trains, gradients flow through the encoders.</summary>
    public bool TrainsEverything { get; private set; }

    /// <summary>Unfreezes every weight (training from scratch: random frozen encoders would give the decoders random features).</summary>
    public void TrainEverything()
    {
        foreach (var p in parameters()) p.requires_grad = true;
        TrainsEverything = true;
    }

    /// <summary>Ids of the <see cref="Anchors"/> (V, V+1, V+2).</summary>
    public IReadOnlyList<int> AnchorIds => [.. Enumerable.Range(0, Anchors.Count).Select(llm.AnchorId)];

    /// <summary>The parameters training updates, with their state_dict names: LoRA adapters, the anchor rows, SPAM,
    /// Token Refiner, AGMD — selected by the modules they belong to — or all of them after <see cref="TrainEverything"/>.</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> TrainableParameters()
    {
        if (TrainsEverything) return named_parameters().Select(p => (p.name, p.parameter)).ToList();
        var chosen = llm.LanguageModel.AdapterParameters()
            .Concat(llm.AddedTokens.parameters())
            .Concat(Config.Vision.ResNet is null ? [] : vision.Projector.parameters().Concat(vision.PixelNeck.parameters()))
            .Concat(vision.Spam.parameters())
            .Concat(vision.TokenRefiner.parameters())
            .Concat(vision.Agmd.parameters())
            .ToHashSet(ReferenceEqualityComparer.Instance);
        return named_parameters().Where(p => chosen.Contains(p.parameter)).Select(p => (p.name, p.parameter)).ToList();
    }

    /// <summary>Runs the encoders and SPAM.</summary>
    /// <param name="semanticPixels">[B, 3, S_s, S_s] SigLIP input.</param>
    /// <param name="pixelPixels">[B, 3, S_p, S_p] SAM input.</param>
    /// <returns>Visual tokens [f_s ; f_align] [B, 2·N_s, D] and f_p [B, C, H_p, W_p].</returns>
    public (Tensor Visual, Tensor PixelEmbedding) EncodeImages(Tensor semanticPixels, Tensor pixelPixels)
    {
        using var scope = NewDisposeScope();
        Tensor fs, fp;
        if (vision.Backbone is { } backbone)
        {
            // One frozen ResNet-18 pass serves both sides (semanticPixels is the same input).
            ResNetStages stages;
            using (no_grad()) stages = backbone.Model.forward(pixelPixels);                    // strides 4..32
            using (stages)
            {
                int g = Config.Vision.ResNet!.SemanticGrid;
                var pooled = nn.functional.adaptive_avg_pool2d(stages.Stage4, [g, g]);          // [B, 512, g, g]
                fs = vision.Projector.forward(pooled.flatten(2).transpose(1, 2));              // [B, N_s, D]
                fp = vision.PixelNeck.forward(stages);                                          // [B, C, S/4, S/4]
            }
        }
        else
        {
            // Frozen encoders and projector (the paper's set-up): no graph through them.
            using (TrainsEverything ? null : no_grad())
            {
                fs = vision.Projector.forward(vision.SemanticEncoder.forward(semanticPixels));   // [B, N_s, D]
                fp = vision.PixelEncoder.forward(pixelPixels);                                  // [B, C, H_p, W_p]
            }
        }
        var fAlign = vision.Spam.forward(fs, fp);                                              // [B, N_s, D]
        var visual = cat([fs, fAlign], dim: 1);                                                 // [B, 2·N_s, D]
        return (visual.MoveToOuterDisposeScope(), fp.MoveToOuterDisposeScope());
    }

    /// <summary>Anchor states [B, A, D] (NOR, ANO, SEG) → Token Refiner → AGMD maps at the decoder's resolution.</summary>
    public AgmdOutput DecodeMasks(Tensor pixelEmbedding, Tensor anchorStates)
    {
        using var scope = NewDisposeScope();
        var refined = vision.TokenRefiner.forward(anchorStates);                              // [B, A, C]
        return vision.Agmd.forward(pixelEmbedding, refined).MoveToOuterDisposeScope();
    }

    /// <summary>Teacher-forced training loss L = L_txt + L_seg (docs/design.md §7).</summary>
    /// <param name="semanticPixels">[B, 3, S_s, S_s].</param>
    /// <param name="pixelPixels">[B, 3, S_p, S_p].</param>
    /// <param name="masks">[B, S_p, S_p] ground truth in the pixel encoder's frame (all zero for normal images).</param>
    /// <param name="ids">Per row, the conversation's ids with one image placeholder and the anchors in the answer.</param>
    /// <param name="isTarget">Per row, which ids are answer tokens (see <see cref="Text.ChatTemplate.EncodeForTraining"/>).</param>
    /// <param name="weights">The loss weights; null for the defaults.</param>
    public AgVasLoss Loss(Tensor semanticPixels, Tensor pixelPixels, Tensor masks, IReadOnlyList<int[]> ids, IReadOnlyList<bool[]> isTarget,
        LossWeights? weights = null)
    {
        using var scope = NewDisposeScope();
        using Scalar one = 1, zero = 0, maxPosition = long.MaxValue;
        var (visual, fp) = EncodeImages(semanticPixels, pixelPixels);                          // [B, 2·N_s, D], [B, C, H_p, W_p]
        using var input = LlmInput.Build(llm, ids, isTarget, Config.ImageTokenId, visual);
        var positions = input.Mask.cumsum(1, ScalarType.Int64).sub(one).clamp(zero, maxPosition); // [B, S]
        var hidden = llm.Hidden(input.Embeds, input.Mask, positions, null);                    // [B, S, D]
        var text = llm.TextLoss(hidden, input.Ids, input.Targets);
        var states = LlmAnchorStates.Select(hidden, input.Ids, AnchorIds);                     // [B, A, D]
        using var decoded = DecodeMasks(fp, states);
        var logits = nn.functional.interpolate(decoded.Logits, size: [masks.shape[1], masks.shape[2]],
            mode: InterpolationMode.Bilinear, align_corners: false);                           // [B, 3, S_p, S_p]
        var seg = SegmentationLoss.Compute(logits, masks);
        var total = (weights ?? new LossWeights()).Total(text, seg);
        seg.MoveToOuterDisposeScope();
        return new AgVasLoss(total.MoveToOuterDisposeScope(), text.MoveToOuterDisposeScope(), seg);
    }
}

/// <summary>The parts of the AG-VAS loss for one batch. Owns its tensors.</summary>
public sealed class AgVasLoss(Tensor total, Tensor text, SegmentationLossParts segmentation) : IDisposable
{
    /// <summary>The weighted sum λ_txt·L_txt + L_seg (scalar, to back-propagate).</summary>
    public Tensor Total { get; } = total;
    /// <summary>L_txt: next-token cross-entropy over the answer tokens.</summary>
    public Tensor Text { get; } = text;
    /// <summary>L_seg and its BCE/Dice parts per anchor.</summary>
    public SegmentationLossParts Segmentation { get; } = segmentation;

    public void Dispose()
    {
        Total.Dispose();
        Text.Dispose();
        Segmentation.Dispose();
    }
}
