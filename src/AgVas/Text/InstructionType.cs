namespace AgVas.Text;

/// <summary>The four instruction types of AG-VAS (docs/design.md §8); each is also an inference mode.</summary>
public enum InstructionType
{
    /// <summary>Answer <see cref="Conversations.DirectAnswer"/>.</summary>
    DirectSegmentation,
    /// <summary>A description, then the anchors.</summary>
    DescribeThenSegment,
    /// <summary>As DescribeThenSegment, with the object's normal state given in the question as an expert prior.</summary>
    DescribeThenSegmentPlus,
    /// <summary>Anchors first, explanation after.</summary>
    SegmentThenExplain,
}
