namespace AgVas.Training;

/// <summary>
/// The parts of the AG-VAS training loss (docs/design.md §7) for one batch, as plain numbers for logging:
/// L = λ_txt·L_txt + Σ_c (λ_bce·BCE_c + λ_dice·Dice_c) over the anchors c ∈ {NOR, ANO, SEG}, + λ_hard·HardBCE.
/// </summary>
public sealed record LossParts(double Total, double Text, double BceNor, double BceAno, double BceSeg, double DiceNor, double DiceAno, double DiceSeg,
    double HardBce = 0)
{
    /// <summary>Names as written to the JSONL log and shown in the progress line, in the order of <see cref="Values"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["loss", "text", "bce_nor", "bce_ano", "bce_seg", "dice_nor", "dice_ano", "dice_seg", "hard_bce"];

    public IReadOnlyList<double> Values => [Total, Text, BceNor, BceAno, BceSeg, DiceNor, DiceAno, DiceSeg, HardBce];

    public static LossParts Zero { get; } = new(0, 0, 0, 0, 0, 0, 0, 0);

    /// <summary>Element-wise sum (for averaging micro-steps).</summary>
    public static LossParts operator +(LossParts a, LossParts b) => new(a.Total + b.Total, a.Text + b.Text,
        a.BceNor + b.BceNor, a.BceAno + b.BceAno, a.BceSeg + b.BceSeg, a.DiceNor + b.DiceNor, a.DiceAno + b.DiceAno, a.DiceSeg + b.DiceSeg, a.HardBce + b.HardBce);

    public static LossParts operator /(LossParts a, double d) => new(a.Total / d, a.Text / d,
        a.BceNor / d, a.BceAno / d, a.BceSeg / d, a.DiceNor / d, a.DiceAno / d, a.DiceSeg / d, a.HardBce / d);
}
