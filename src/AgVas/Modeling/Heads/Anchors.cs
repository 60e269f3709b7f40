namespace AgVas.Modeling;

/// <summary>The A = 3 anchors of AG-VAS (docs/design.md §4), defined once: their token strings, their order and the index of
/// each. The order NOR, ANO, SEG is the order the anchors end an answer, of their ids after the base vocabulary (V, V+1,
/// V+2), of the states handed to the Token Refiner, of AGMD's output tokens and of the channels of its logits.</summary>
public static class Anchors
{
    /// <summary>Relative anchor: normal context.</summary>
    public const string Nor = "[NOR]";
    /// <summary>Relative anchor: abnormal context.</summary>
    public const string Ano = "[ANO]";
    /// <summary>Absolute anchor: the defect as a concrete visual entity.</summary>
    public const string Seg = "[SEG]";

    /// <summary>Index of each anchor in <see cref="Tokens"/> (and channel in AGMD's logits).</summary>
    public const int NorIndex = 0, AnoIndex = 1, SegIndex = 2;

    /// <summary>A, the number of anchors.</summary>
    public const int Count = SegIndex + 1;

    /// <summary>The anchors in order: [NOR], [ANO], [SEG].</summary>
    public static readonly IReadOnlyList<string> Tokens = [Nor, Ano, Seg];

    /// <summary>The anchors as they end an answer: "[NOR] [ANO] [SEG]".</summary>
    public const string Suffix = Nor + " " + Ano + " " + Seg;
}
