namespace AgVas.Text;

/// <summary>The special tokens of AG-VAS (AGVAS.md §2). Each must encode to exactly one token id.</summary>
public static class AnchorTokens
{
    /// <summary>Absolute anchor: the defect as a concrete visual entity.</summary>
    public const string Seg = "[SEG]";
    /// <summary>Relative anchor: normal context.</summary>
    public const string Nor = "[NOR]";
    /// <summary>Relative anchor: abnormal context.</summary>
    public const string Ano = "[ANO]";
    /// <summary>The anchors in the order they end an answer: "[NOR] [ANO] [SEG]".</summary>
    public static readonly IReadOnlyList<string> InAnswerOrder = [Nor, Ano, Seg];
    /// <summary>The anchor suffix as it appears in answers.</summary>
    public const string Suffix = "[NOR] [ANO] [SEG]";
    /// <summary>LLaVA-OneVision's image placeholder in the prompt text.</summary>
    public const string Image = "<image>";
}
