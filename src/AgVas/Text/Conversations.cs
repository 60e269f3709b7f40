using AgVas.Modeling;
using AgVas.Synthesis;

namespace AgVas.Text;

/// <summary>The texts a conversation can draw on for one image: its category, its label and, when curated, the five
/// Anomaly-Instruct fields (docs/design.md §8). Without them only Direct Segmentation can be built.</summary>
public sealed record ConversationSource(string Category, bool IsAnomalous, string? Expectation = null, string? Observation = null,
    string? Diagnosis = null, string? Summary = null, string? Explanation = null)
{
    /// <summary>True when every field needed by the describing instruction types is present.</summary>
    public bool HasDescription => Expectation is not null && Observation is not null && Diagnosis is not null && Summary is not null && Explanation is not null;

    public static ConversationSource FromRecord(InstructRecord r) =>
        new(r.Category, r.IsAnomalous, r.Expectation, r.Observation, r.Diagnosis, r.Summary, r.Explanation);
}

/// <summary>Builds the chat turns of the four instruction types (docs/design.md §8). The user turn starts with
/// <see cref="ChatTemplate.ImageToken"/>; answers hold the <see cref="Anchors"/> exactly once:
/// Direct Segmentation answers <see cref="DirectAnswer"/>; Describe-then-Segment answers the observation, then the
/// summary (which ends in the anchors); Describe-then-Segment-Plus puts the normal state (Expectation) in the question
/// as an expert prior and answers observation, diagnosis and summary; Segment-then-Explain answers the anchors first and
/// the explanation after. Question wording is drawn from several templates by the caller's random stream.</summary>
public static class Conversations
{
    /// <summary>The Direct Segmentation answer.</summary>
    public const string DirectAnswer = "Sure, it is " + Anchors.Suffix + ".";

    private static readonly string[] DirectQuestions =
    [
        "Can you segment the anomaly in this image of a {0}?",
        "Please segment any anomalous region of this {0}.",
        "Is there a defect in this {0}? Please output the segmentation mask.",
        "Segment the defect of the {0} in this image, if there is one.",
    ];

    private static readonly string[] DescribeQuestions =
    [
        "Is there any anomaly in this {0}? Describe it, then segment it.",
        "Inspect this {0}: describe what deviates from normal and segment it.",
        "Describe any defect you find on this {0} and provide its segmentation mask.",
    ];

    private static readonly string[] PlusQuestions =
    [
        "Expert prior: {1}\nUsing this knowledge, is this {0} anomalous? Describe the anomaly and segment it.",
        "Here is how a normal {0} looks: {1}\nCompare the image with this, describe any deviation and segment it.",
        "Reference (normal state): {1}\nInspect the {0}, explain what differs and output the mask.",
    ];

    private static readonly string[] ExplainQuestions =
    [
        "Segment the anomaly in this {0} first, then explain your decision.",
        "Please segment any defect of this {0} and then explain why it is anomalous.",
        "Output the anomaly mask for this {0}, followed by an explanation.",
    ];

    private static readonly string[] GeneralQuestions =
    [
        "Please segment the {0} in this image.",
        "Can you segment the {0} in this image?",
        "What is the {0} in this picture? Please output the segmentation mask.",
    ];

    /// <summary>Whether <paramref name="type"/> can be built from <paramref name="source"/> (describing types need curated text).</summary>
    public static bool Supports(InstructionType type, ConversationSource source) =>
        type == InstructionType.DirectSegmentation || source.HasDescription;

    /// <summary>The user and assistant turns for <paramref name="source"/> as instruction type <paramref name="type"/>.</summary>
    public static IReadOnlyList<ChatMessage> Build(InstructionType type, ConversationSource source, ref SynthRandom rng)
    {
        if (!Supports(type, source))
            throw new ArgumentException($"{type} needs the Anomaly-Instruct fields (expectation, observation, diagnosis, summary, explanation); this source has none", nameof(source));
        // AG-VAS (ours): one question in GenericObjectRate names no category, as inference does when it knows none.
        string obj = rng.Chance(GenericObjectRate) ? GenericObject : InstructCurator.HumaniseCategory(source.Category);
        var (question, answer) = type switch
        {
            InstructionType.DirectSegmentation => (Format(Pick(DirectQuestions, ref rng), obj), DirectAnswer),
            InstructionType.DescribeThenSegment => (Format(Pick(DescribeQuestions, ref rng), obj), $"{source.Observation} {source.Summary}"),
            InstructionType.DescribeThenSegmentPlus => (Format(Pick(PlusQuestions, ref rng), obj, source.Expectation!),
                $"{source.Observation} {source.Diagnosis} {source.Summary}"),
            InstructionType.SegmentThenExplain => (Format(Pick(ExplainQuestions, ref rng), obj), $"{DirectAnswer} {source.Explanation}"),
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
        };
        return [new ChatMessage("user", $"{ChatTemplate.ImageToken}\n{question}"), new ChatMessage("assistant", answer)];
    }

    /// <summary>A general (non-anomaly) segmentation conversation: "segment the &lt;phrase&gt;", answered with the anchors
    /// (ours: the same three anchors, so the decoder sees one answer form; the referred region plays the role of the mask).</summary>
    public static IReadOnlyList<ChatMessage> BuildGeneral(string phrase, ref SynthRandom rng) =>
        [new ChatMessage("user", $"{ChatTemplate.ImageToken}\n{Format(Pick(GeneralQuestions, ref rng), phrase)}"), new ChatMessage("assistant", DirectAnswer)];

    /// <summary>The noun that stands for the object when the category is unknown (e.g. <c>agvas segment</c> on a folder).</summary>
    public const string GenericObject = "object";

    /// <summary>The share of training questions that say <see cref="GenericObject"/> instead of the category.</summary>
    public const double GenericObjectRate = 0.25;

    /// <summary>The question alone (inference): the user turn of <paramref name="type"/> for a category, with the
    /// expert prior for Describe-then-Segment-Plus (<paramref name="expectation"/> is required then).</summary>
    public static ChatMessage Question(InstructionType type, string category, string? expectation = null, int template = 0) =>
        new("user", $"{ChatTemplate.ImageToken}\n{QuestionText(type, category, expectation, template)}");

    /// <summary>The text of <see cref="Question"/> without the image placeholder: the same templates as training.</summary>
    public static string QuestionText(InstructionType type, string category, string? expectation = null, int template = 0)
    {
        string obj = InstructCurator.HumaniseCategory(category);
        var list = type switch
        {
            InstructionType.DirectSegmentation => DirectQuestions,
            InstructionType.DescribeThenSegment => DescribeQuestions,
            InstructionType.DescribeThenSegmentPlus => PlusQuestions,
            _ => ExplainQuestions,
        };
        if (type == InstructionType.DescribeThenSegmentPlus && expectation is null)
            throw new ArgumentException("Describe-then-Segment-Plus needs the object's normal state (expectation)", nameof(expectation));
        return Format(list[Math.Abs(template) % list.Length], obj, expectation ?? "");
    }

    private static string Format(string template, string obj, string prior = "") => template.Replace("{0}", obj).Replace("{1}", prior);

    private static string Pick(string[] options, ref SynthRandom rng) => options[rng.Next(options.Length)];
}
