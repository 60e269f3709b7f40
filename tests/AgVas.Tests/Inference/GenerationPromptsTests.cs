using AgVas.Inference;
using AgVas.Synthesis;
using AgVas.Text;

namespace AgVas.Tests.Inference;

/// <summary>Inference asks the questions training taught: the same templates, and the category-free form
/// (<see cref="Conversations.GenericObject"/>) that inference uses when it knows no category.</summary>
public class GenerationPromptsTests
{
    private static readonly ConversationSource Source = new("metal_plate", true, "A flat grey plate.", "A scratch on the left.",
        "The scratch breaks the uniform surface.", "There is a scratch [NOR] [ANO] [SEG]", "It is a scratch.");

    [Theory]
    [InlineData(InstructionType.DirectSegmentation)]
    [InlineData(InstructionType.DescribeThenSegment)]
    [InlineData(InstructionType.SegmentThenExplain)]
    public void CategoryFreeInferenceQuestionIsATrainingQuestion(InstructionType mode)
    {
        var asked = new HashSet<string>();
        var rng = new SynthRandom(7);
        for (int i = 0; i < 400; i++) asked.Add(Conversations.Build(mode, Source, ref rng)[0].Content);
        Assert.Contains($"{ChatTemplate.ImageToken}\n{GenerationPrompts.Question(mode)}", asked);
        Assert.Contains(asked, q => q.Contains("metal plate"));
    }

    [Fact]
    public void PlusCarriesThePriorAndFallsBackWithoutIt()
    {
        var plus = GenerationPrompts.Question(InstructionType.DescribeThenSegmentPlus, "metal_plate", " A flat grey plate. ");
        Assert.Contains("A flat grey plate.", plus);
        Assert.Contains("metal plate", plus);
        Assert.Equal(GenerationPrompts.Question(InstructionType.DescribeThenSegment),
            GenerationPrompts.Question(InstructionType.DescribeThenSegmentPlus));
    }
}
