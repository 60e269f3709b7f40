using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AgVas.Modeling;

/// <summary>How the segmentation loss parts are computed (docs/design.md §7): Dice smoothed as LISA's, and the share of hardest
/// pixels HardBCE averages over (online hard-pixel mining: mean BCE barely notices a normal image whose mask is 2 % wrong,
/// while IoU_nor scores it 0; the hardest pixels are exactly those). The weights of the parts are <see cref="LossWeights"/>,
/// which the training configuration holds. (Model configurations written before carry BceWeight, DiceWeight and
/// HardBceWeight here; they are ignored on reading.)</summary>
public sealed record SegmentationLossConfig(double DiceScale = 1000.0, double DiceEps = 1e-6, double HardPixelFraction = 0.01);

/// <summary>Weights of L = λ_txt·L_txt + Σ_c (λ_bce·BCE_c + λ_dice·Dice_c) + λ_hard·HardBCE (docs/design.md §7); λ_hard·HardBCE
/// is beyond the paper (see <see cref="SegmentationLossConfig"/>), and λ_hard = 0 (the default) is the paper's loss.
/// The one source of the loss weights: the training configuration's <c>loss</c> section binds it.</summary>
public sealed record LossWeights
{
    public double TextWeight { get; init; } = 1.0;
    public double BceWeight { get; init; } = 0.5;
    public double DiceWeight { get; init; } = 2.0;
    public double HardBceWeight { get; init; }

    /// <summary>The weighted sum (a scalar tensor): λ_txt·<paramref name="text"/> (left out when null) + the weighted
    /// segmentation parts.</summary>
    public Tensor Total(Tensor? text, SegmentationLossParts s)
    {
        using Scalar tw = TextWeight, wb = BceWeight, wd = DiceWeight, wh = HardBceWeight;
        var bce = s.BceNor.Plus(s.BceAno).Plus(s.BceSeg) * wb;                       // []
        var sum = text is null ? bce : (text * tw).Plus(bce);                        // []
        return sum.Plus(s.DiceNor.Plus(s.DiceAno).Plus(s.DiceSeg) * wd).Plus(s.HardBce * wh); // []
    }
}

/// <summary>
/// The parts of the mask loss of AG-VAS (docs/design.md §7), weighted by <see cref="LossWeights"/>: BCE(P_c, M_c) and Dice(P_c, M_c) over
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
        using Scalar one = 1;
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

        var parts = new SegmentationLossParts(bceSeg, bceNor, bceAno, diceSeg, diceNor, diceAno, hardBce);
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

/// <summary>The loss parts, each a scalar tensor (<see cref="LossWeights.Total"/> sums them). Owns its tensors.</summary>
public sealed class SegmentationLossParts(Tensor bceSeg, Tensor bceNor, Tensor bceAno, Tensor diceSeg, Tensor diceNor, Tensor diceAno, Tensor hardBce) : IDisposable
{
    public Tensor BceSeg { get; } = bceSeg;
    public Tensor BceNor { get; } = bceNor;
    public Tensor BceAno { get; } = bceAno;
    public Tensor DiceSeg { get; } = diceSeg;
    public Tensor DiceNor { get; } = diceNor;
    public Tensor DiceAno { get; } = diceAno;
    /// <summary>Mean BCE of each mask's hardest pixels (SEG + the NOR/ANO pair).</summary>
    public Tensor HardBce { get; } = hardBce;

    private Tensor[] All => [BceSeg, BceNor, BceAno, DiceSeg, DiceNor, DiceAno, HardBce];

    internal void MoveToOuterDisposeScope()
    {
        foreach (var t in All) t.MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        foreach (var t in All) t.Dispose();
    }
}
