using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AgVas.Modeling;

/// <summary>Segmentation loss weights (AGVAS.md §3): λ_bce·BCE + λ_dice·Dice per anchor; Dice smoothed as LISA's.
/// Beyond the paper, λ_hard·HardBCE: BCE averaged over each mask's hardest <see cref="HardPixelFraction"/> of pixels
/// (online hard-pixel mining). Mean BCE barely notices a normal image whose mask is 2 % wrong, while IoU_nor scores it
/// 0; the hardest pixels are exactly those. λ_hard = 0 (the default) is the paper's loss.</summary>
public sealed record SegmentationLossConfig(double BceWeight = 0.5, double DiceWeight = 2.0, double DiceScale = 1000.0, double DiceEps = 1e-6,
    double HardBceWeight = 0.0, double HardPixelFraction = 0.01);

/// <summary>
/// The mask part of the AG-VAS loss (AGVAS.md §3): Σ_c λ_bce·BCE(P_c, M_c) + λ_dice·Dice(P_c, M_c) over
/// c ∈ {NOR, ANO, SEG} with M_SEG = M_ANO = mask, M_NOR = 1 − mask. BCE is computed from logits: for SEG with the
/// sigmoid form, for NOR/ANO with the 2-way log-softmax (log P_ano, log(1 − P_ano) = log P_nor) so no probability is
/// ever logged. Dice is LISA's: on probabilities, 1 − (2Σpm/s + ε)/(Σp/s + Σm/s + ε) with s = 1000, ε = 1e-6. Both are
/// computed per mask (BCE as the mean over pixels) and averaged over the masks of the batch. HardBCE (see
/// <see cref="SegmentationLossConfig"/>) is the mean BCE of each mask's hardest pixels, SEG plus the NOR/ANO pair (whose
/// two BCEs are the same quantity).
/// </summary>
public sealed class SegmentationLoss(SegmentationLossConfig config)
{
    public SegmentationLossConfig Config { get; } = config;

    /// <param name="logits">[B, A, h, w] AGMD logits (NOR, ANO, SEG), already at the target's resolution</param>
    /// <param name="mask">[B, h, w] ground truth in {0, 1} (float or bool); all zero for a normal image</param>
    public SegmentationLossParts Compute(Tensor logits, Tensor mask)
    {
        if (logits.ndim != 4 || logits.shape[1] != Anchors.Count)
            throw new ArgumentException($"logits must be [B, {Anchors.Count}, h, w], got [{string.Join(", ", logits.shape)}]", nameof(logits));
        if (mask.ndim != 3 || mask.shape[0] != logits.shape[0] || mask.shape[1] != logits.shape[2] || mask.shape[2] != logits.shape[3])
            throw new ArgumentException($"mask must be [B, h, w] matching logits [{string.Join(", ", logits.shape)}], got [{string.Join(", ", mask.shape)}]", nameof(mask));

        using var scope = NewDisposeScope();
        using Scalar one = 1, wb = Config.BceWeight, wd = Config.DiceWeight, wh = Config.HardBceWeight;
        var m = mask.to(logits.dtype).flatten(1);                                    // [B, hw]
        var notM = m.negative().add(one, one);                                       // [B, hw] 1 − m
        var seg = logits[.., Anchors.SegIndex].flatten(1);                                   // [B, hw]
        var logRel = logits[.., Anchors.NorIndex..(Anchors.AnoIndex + 1)].log_softmax(1).flatten(2); // [B, 2, hw]
        var logNor = logRel[.., 0];                                                  // [B, hw]
        var logAno = logRel[.., 1];                                                  // [B, hw]

        var pixelSeg = nn.functional.binary_cross_entropy_with_logits(seg, m, reduction: nn.Reduction.None); // [B, hw]
        var pixelRel = -(m * logAno).Plus(notM * logNor);                                // [B, hw]
        var bceSeg = pixelSeg.mean([1]).mean();                                      // []
        var bceAno = pixelRel.mean([1]).mean();                                      // []
        var bceNor = (-(notM * logNor).Plus(m * logAno)).mean([1]).mean();              // []
        long k = Math.Clamp((long)Math.Round(Config.HardPixelFraction * pixelSeg.shape[1]), 1, pixelSeg.shape[1]);
        var hardBce = pixelSeg.topk((int)k, dim: 1).values.mean().Plus(pixelRel.topk((int)k, dim: 1).values.mean()); // []

        var diceSeg = Dice(seg.sigmoid(), m);                                        // []
        var diceAno = Dice(logAno.exp(), m);                                         // []
        var diceNor = Dice(logNor.exp(), notM);                                      // []

        var total = (bceSeg.Plus(bceAno).Plus(bceNor) * wb).Plus(diceSeg.Plus(diceAno).Plus(diceNor) * wd).Plus(hardBce * wh);
        var parts = new SegmentationLossParts(total, bceSeg, bceNor, bceAno, diceSeg, diceNor, diceAno, hardBce);
        parts.MoveToOuterDisposeScope();
        return parts;
    }

    /// <summary>LISA's smoothed Dice loss per mask, averaged. p, m: [B, hw] → [].</summary>
    private Tensor Dice(Tensor p, Tensor m)
    {
        using Scalar s = Config.DiceScale, eps = Config.DiceEps, two = 2, one = 1;
        var numerator = (p / s * m).sum([1]) * two;                                  // [B]
        var denominator = (p / s).sum([1]).Plus((m / s).sum([1]));                       // [B]
        var ratio = numerator.add(eps, one) / denominator.add(eps, one);             // [B]
        return ratio.negative().add(one, one).mean();                                // [] mean of 1 − ratio
    }
}

/// <summary>The loss parts, each a scalar tensor; <see cref="Total"/> is the weighted sum. Owns its tensors.</summary>
public sealed class SegmentationLossParts(Tensor total, Tensor bceSeg, Tensor bceNor, Tensor bceAno, Tensor diceSeg, Tensor diceNor, Tensor diceAno, Tensor hardBce) : IDisposable
{
    public Tensor Total { get; } = total;
    public Tensor BceSeg { get; } = bceSeg;
    public Tensor BceNor { get; } = bceNor;
    public Tensor BceAno { get; } = bceAno;
    public Tensor DiceSeg { get; } = diceSeg;
    public Tensor DiceNor { get; } = diceNor;
    public Tensor DiceAno { get; } = diceAno;
    /// <summary>Mean BCE of each mask's hardest pixels (SEG + the NOR/ANO pair).</summary>
    public Tensor HardBce { get; } = hardBce;

    private Tensor[] All => [Total, BceSeg, BceNor, BceAno, DiceSeg, DiceNor, DiceAno, HardBce];

    internal void MoveToOuterDisposeScope()
    {
        foreach (var t in All) t.MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        foreach (var t in All) t.Dispose();
    }
}
