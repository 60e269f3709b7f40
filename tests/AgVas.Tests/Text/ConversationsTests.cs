using AgVas.Modeling;
using System.Text.RegularExpressions;
using AgVas.Data;
using AgVas.Synthesis;
using AgVas.Text;

namespace AgVas.Tests.Text;

public class ConversationsTests
{
    private static readonly ConversationSource Full = new("metal_plate", true,
        Expectation: "A normal metal plate is flat and uniform.",
        Observation: "There is a small dark scratch in the top left of the image.",
        Diagnosis: "It breaks the uniform surface: a scratch.",
        Summary: "There is a small scratch in the top left of the image. [NOR] [ANO] [SEG]",
        Explanation: "The thin dark line does not belong to a normal plate.");

    private static int Count(string text, string token) => Regex.Matches(text, Regex.Escape(token)).Count;

    [Fact]
    public void EachTypeHasItsShape()
    {
        var rng = new SynthRandom(1);
        foreach (var type in Enum.GetValues<InstructionType>())
        {
            var turns = Conversations.Build(type, Full, ref rng);
            Assert.Equal(["user", "assistant"], turns.Select(t => t.Role));
            Assert.StartsWith(ChatTemplate.ImageToken + "\n", turns[0].Content);
            Assert.Equal(1, Count(turns[0].Content, ChatTemplate.ImageToken));
            Assert.Matches($"metal plate|{Conversations.GenericObject}", turns[0].Content);
            var answer = turns[1].Content;
            Assert.Equal(1, Count(answer, Anchors.Suffix));
            foreach (var anchor in Anchors.Tokens) Assert.Equal(1, Count(answer, anchor));
            Assert.DoesNotContain(Anchors.Seg, turns[0].Content);
            switch (type)
            {
                case InstructionType.DirectSegmentation:
                    Assert.Equal("Sure, it is [NOR] [ANO] [SEG].", answer);
                    break;
                case InstructionType.DescribeThenSegment:
                    Assert.StartsWith(Full.Observation!, answer);
                    Assert.EndsWith(Anchors.Suffix, answer);
                    Assert.DoesNotContain(Full.Expectation!, turns[0].Content);
                    break;
                case InstructionType.DescribeThenSegmentPlus:
                    Assert.Contains(Full.Expectation!, turns[0].Content);
                    Assert.StartsWith(Full.Observation!, answer);
                    Assert.Contains(Full.Diagnosis!, answer);
                    Assert.EndsWith(Anchors.Suffix, answer);
                    break;
                case InstructionType.SegmentThenExplain:
                    Assert.StartsWith(Conversations.DirectAnswer, answer);
                    Assert.EndsWith(Full.Explanation!, answer);
                    break;
            }
        }
    }

    [Fact]
    public void DescribingTypesNeedCuratedText()
    {
        var bare = new ConversationSource("plate", true);
        var rng = new SynthRandom(2);
        Assert.True(Conversations.Supports(InstructionType.DirectSegmentation, bare));
        Assert.False(Conversations.Supports(InstructionType.SegmentThenExplain, bare));
        Assert.Throws<ArgumentException>(() => Conversations.Build(InstructionType.DescribeThenSegmentPlus, bare, ref rng));
        Assert.Throws<ArgumentException>(() => Conversations.Question(InstructionType.DescribeThenSegmentPlus, "plate"));
        Assert.Contains("normal plate", Conversations.Question(InstructionType.DescribeThenSegmentPlus, "plate", "A normal plate is flat.").Content);
    }

    [Fact]
    public void QuestionsVaryWithTheStream()
    {
        var rng = new SynthRandom(3);
        var questions = Enumerable.Range(0, 40).Select(_ => Conversations.Build(InstructionType.DirectSegmentation, Full, ref rng)[0].Content).ToHashSet();
        Assert.True(questions.Count >= 3);
    }

    private static TrainingItem Item(bool anomalous, bool text, string? phrase = null) => new("i.png", anomalous ? ["m.png"] : [], MaskRule.GreaterThanZero, anomalous,
        text ? Full with { IsAnomalous = anomalous } : new ConversationSource("plate", anomalous), phrase);

    [Fact]
    public void MixtureFollowsRatiosAndIsDeterministic()
    {
        var seg = Enumerable.Range(0, 5).Select(_ => Item(true, false)).ToList();
        var instruct = Enumerable.Range(0, 5).Select(_ => Item(true, true)).ToList();
        var normal = Enumerable.Range(0, 5).Select(_ => Item(false, true)).ToList();
        var general = Enumerable.Range(0, 5).Select(_ => Item(true, false, "the dog")).ToList();
        var mix = new ConversationMixture(seg, instruct, normal, general, new MixtureRatios(0.5, 0.2, 0.2, 0.1),
            new InstructionRatios(0.1, 0.3, 0.3, 0.3), seed: 5);
        const int n = 4000;
        var examples = Enumerable.Range(0, n).Select(i => mix.Sample(i)).ToList();
        double Share(MixturePool p) => examples.Count(e => e.Pool == p) / (double)n;
        Assert.InRange(Share(MixturePool.AnomalySeg), 0.46, 0.54);
        Assert.InRange(Share(MixturePool.Instruct), 0.17, 0.23);
        Assert.InRange(Share(MixturePool.Normal), 0.17, 0.23);
        Assert.InRange(Share(MixturePool.General), 0.08, 0.12);
        // Anomaly-Seg items without text can only be Direct; items with text follow the type ratios.
        Assert.All(examples.Where(e => e.Pool == MixturePool.AnomalySeg), e => Assert.Equal(InstructionType.DirectSegmentation, e.Type));
        var withText = examples.Where(e => e.Pool is MixturePool.Instruct or MixturePool.Normal).ToList();
        double direct = withText.Count(e => e.Type == InstructionType.DirectSegmentation) / (double)withText.Count;
        Assert.InRange(direct, 0.06, 0.14);
        Assert.All(examples.Where(e => e.Pool == MixturePool.General), e => Assert.Contains("the dog", e.Messages[0].Content));
        var again = new ConversationMixture(seg, instruct, normal, general, new MixtureRatios(0.5, 0.2, 0.2, 0.1),
            new InstructionRatios(0.1, 0.3, 0.3, 0.3), seed: 5);
        foreach (var i in new[] { 17L, 3, 999 })
            Assert.Equal(examples[(int)i].Messages, again.Sample(i).Messages);
    }

    [Fact]
    public void EmptyPoolsAreSkippedAndBadRatiosRejected()
    {
        var instruct = new List<TrainingItem> { Item(true, true) };
        var mix = new ConversationMixture([], instruct, [], []);
        Assert.Equal([0, 0.3, 0, 0], mix.EffectivePoolWeights);
        Assert.All(Enumerable.Range(0, 20), i => Assert.Equal(MixturePool.Instruct, mix.Sample(i).Pool));
        Assert.Throws<ArgumentException>(() => new ConversationMixture([], [], [], []));
        Assert.Throws<ArgumentException>(() => new ConversationMixture(instruct, [], [], [], new MixtureRatios(-1, 1, 1, 1)));
        Assert.Throws<ArgumentException>(() => new ConversationMixture(instruct, [], [], [Item(true, false)]));
    }

    [Fact]
    public void CuratedRecordsFeedConversations()
    {
        var image = SynthTestImages();
        var mask = new BinaryMask(40, 40);
        for (int y = 30; y < 36; y++) for (int x = 30; x < 36; x++) mask.Data[y * 40 + x] = true;
        var record = InstructCurator.Describe(image, mask, "tile", "crack", "t.png", ["m.png"], 1);
        var rng = new SynthRandom(4);
        var turns = Conversations.Build(InstructionType.DescribeThenSegmentPlus, ConversationSource.FromRecord(record), ref rng);
        Assert.Contains(record.Expectation, turns[0].Content);
        Assert.Contains("bottom right of the image", turns[1].Content);
        Assert.EndsWith(Anchors.Suffix, turns[1].Content);
    }

    private static RgbImage SynthTestImages()
    {
        var image = new RgbImage(40, 40);
        Array.Fill(image.Pixels, (byte)120);
        return image;
    }
}
