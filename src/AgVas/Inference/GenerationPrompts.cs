using AgVas.Text;

namespace AgVas.Inference;

/// <summary>The default questions of the four inference modes (AGVAS.md §3; wording ours) and the prompt around them:
/// LLaVA-OneVision's system turn, then a user turn "&lt;image&gt;\n{question}", then the assistant header.</summary>
public static class GenerationPrompts
{
    /// <summary>The question of <paramref name="mode"/>; <paramref name="normalState"/> is the expert prior of
    /// Describe-then-Segment-Plus (ignored by the other modes; without it Plus asks as Describe-then-Segment).</summary>
    public static string Question(InstructionType mode, string? normalState = null) => mode switch
    {
        InstructionType.DirectSegmentation => "Is there any anomaly in the image? Please output the segmentation mask.",
        InstructionType.DescribeThenSegment => "Is there any anomaly in the image? Describe it, then output the segmentation mask.",
        InstructionType.DescribeThenSegmentPlus when !string.IsNullOrWhiteSpace(normalState) =>
            $"Normally: {normalState.Trim()} Is there any anomaly in the image? Describe it, then output the segmentation mask.",
        InstructionType.DescribeThenSegmentPlus => Question(InstructionType.DescribeThenSegment),
        InstructionType.SegmentThenExplain => "Is there any anomaly in the image? Output the segmentation mask first, then explain it.",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };

    /// <summary>The rendered prompt for one image and question.</summary>
    public static string Prompt(string question) => ChatTemplate.Render(
        [new ChatMessage("system", ChatTemplate.DefaultSystem), new ChatMessage("user", AnchorTokens.Image + "\n" + question)],
        addGenerationPrompt: true);
}
