using AgVas.Text;

namespace AgVas.Inference;

/// <summary>The questions of the four inference modes (docs/design.md §8) and the prompt around them:
/// LLaVA-OneVision's system turn, then a user turn "&lt;image&gt;\n{question}", then the assistant header.</summary>
public static class GenerationPrompts
{
    /// <summary>The question of <paramref name="mode"/>, from the templates training uses (<see cref="Conversations"/>), for
    /// <paramref name="category"/> (null: <see cref="Conversations.GenericObject"/>, a form training also shows).
    /// <paramref name="normalState"/> is the expert prior of Describe-then-Segment-Plus; without it Plus asks as
    /// Describe-then-Segment.</summary>
    public static string Question(InstructionType mode, string? category = null, string? normalState = null) =>
        mode == InstructionType.DescribeThenSegmentPlus && string.IsNullOrWhiteSpace(normalState)
            ? Question(InstructionType.DescribeThenSegment, category)
            : Conversations.QuestionText(mode, category ?? Conversations.GenericObject, normalState?.Trim());

    /// <summary>The rendered prompt for one image and question.</summary>
    public static string Prompt(string question) => ChatTemplate.Render(
        [new ChatMessage("system", ChatTemplate.DefaultSystem), new ChatMessage("user", ChatTemplate.ImageToken + "\n" + question)],
        addGenerationPrompt: true);
}
