using System.Text.RegularExpressions;
using AgVas.Modeling;
using AgVas.Text;

namespace AgVas.Inference;

/// <summary>
/// Makes a generated answer agree with the mask returned beside it (ours: the paper's answer comes from the LLM alone,
/// and a small LLM's text can contradict its own mask). The mask is the model's decision; the text is made to follow it:
/// <list type="bullet">
/// <item>Empty mask: the model's text is kept only when it says the image is normal and nothing against that; otherwise
/// it is replaced by <see cref="NormalStatement"/> (a description of a defect the mask does not have cannot be kept).</item>
/// <item>Non-empty mask: sentences saying the image is normal are dropped; in the rest every verdict, location, size,
/// coverage, region-count and shape statement (<see cref="AnswerClaims"/>) is rewritten to the mask's facts, in the
/// training answers' words; the defect's name and its appearance stay the model's. A location in the object's frame is
/// dropped (checking it needs the image). When the verdict, location or size is not stated, a summary sentence from the
/// facts is added. Should the result still disagree, the answer becomes that summary alone.</item>
/// </list>
/// The <see cref="Anchors"/> appear exactly once, where the instruction type puts them in training
/// (<see cref="Conversations"/>): after the description in the describing modes, first (<see cref="Conversations.DirectAnswer"/>)
/// in Direct Segmentation and Segment-then-Explain. The final answer always passes <see cref="AnswerAgreement.Check(string, MaskFacts)"/>.
/// </summary>
public static class AnswerGrounding
{
    /// <summary>The answer's statement for an empty mask.</summary>
    public const string NormalStatement = "No anomaly was found: the image is normal.";

    private const RegexOptions Options = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant;
    private static readonly Regex Anchor = new(string.Join("|", Anchors.Tokens.Select(Regex.Escape)), Options);
    private static readonly Regex DirectFrame = new(@"\bSure, it is\s*(?:[.,:]|$)", Options);
    private static readonly Regex SpaceBeforePunctuation = new(@"\s+(?=[.,;:!?)])", Options);
    private static readonly Regex RepeatedStop = new(@"([.!?])(?:\s*[.,;:])+", Options);
    private static readonly Regex SentenceBreak = new(@"(?<=[.!?])\s+", Options);

    /// <summary>The final answer for <paramref name="rawText"/> (the model's generation, anchors anywhere) beside a mask with
    /// <paramref name="facts"/>, asked as <paramref name="mode"/>.</summary>
    public static string Ground(string rawText, MaskFacts facts, InstructionType mode)
    {
        var body = Body(rawText);
        body = facts.IsAnomalous ? GroundAnomalous(body, facts) : GroundNormal(body, facts);
        return mode is InstructionType.DirectSegmentation or InstructionType.SegmentThenExplain
            ? $"{Conversations.DirectAnswer} {body}"
            : $"{body} {Anchors.Suffix}";
    }

    /// <summary>The summary sentence of an anomalous mask: "Anomaly found: a large irregularly shaped dent in the bottom
    /// right of the image, covering about 12% of the image." (<paramref name="defectName"/> null: the shape's noun).</summary>
    public static string Summary(MaskFacts facts, string? defectName = null)
    {
        var g = facts.Geometry ?? throw new ArgumentException("an empty mask has no anomaly to summarise", nameof(facts));
        var noun = AnswerClaims.Noun(g, defectName);
        return $"Anomaly found: {AnswerClaims.Article(noun)} {noun} in {AnswerClaims.LocationPhrase(g)}, covering {AnswerClaims.CoveragePhrase(facts.AreaFraction)}.";
    }

    private static string GroundNormal(string body, MaskFacts facts)
    {
        var check = AnswerAgreement.Check(body, facts);
        return check.Agrees && check.Stated.Contains(AnswerAspect.Verdict) ? body : NormalStatement;
    }

    private static string GroundAnomalous(string body, MaskFacts facts)
    {
        var g = facts.Geometry!;
        var sentences = SentenceBreak.Split(body).Where(s => s.Length > 0 && !AnswerClaims.NormalClaim.IsMatch(s)).ToList();
        string? name = sentences.SelectMany(s => AnswerClaims.NounPhrase.Matches(s)).Select(AnswerClaims.DefectName).FirstOrDefault(n => n is not null);
        var rewritten = string.Join(" ", sentences.Select(s => Rewrite(s, facts)));
        var check = AnswerAgreement.Check(rewritten, facts);
        if (!check.IsComplete(facts)) rewritten = (rewritten + " " + Summary(facts, name)).Trim();
        if (AnswerAgreement.Check(rewritten, facts).IsComplete(facts)) return rewritten;
        // A name that itself reads as a statement ("no defect") cannot stay either.
        var summary = Summary(facts, name);
        return AnswerAgreement.Check(summary, facts).IsComplete(facts) ? summary : Summary(facts);
    }

    /// <summary>One sentence with its statements about the mask replaced by the mask's facts.</summary>
    private static string Rewrite(string sentence, MaskFacts facts)
    {
        var g = facts.Geometry!;
        var s = AnswerClaims.NounPhrase.Replace(sentence, m =>
        {
            var noun = AnswerClaims.Noun(g, AnswerClaims.DefectName(m));
            return AnswerClaims.CaseLike(m.Value, $"{AnswerClaims.Article(noun)} {noun}");
        });
        s = AnswerClaims.ObjectLocation.Replace(s, "");
        s = AnswerClaims.Location.Replace(s, m => AnswerClaims.CaseLike(m.Value, AnswerClaims.LocationPhrase(g)));
        s = AnswerClaims.Coverage.Replace(s, m => AnswerClaims.CaseLike(m.Value, AnswerClaims.CoveragePhrase(facts.AreaFraction)));
        s = AnswerClaims.SizeClaim.Replace(s, m => AnswerClaims.CaseLike(m.Value, "a " + AnswerClaims.SizeWord(g.Size)));
        s = AnswerClaims.ShapeEvidence.Replace(s, m => AnswerClaims.CaseLike(m.Value, AnswerClaims.ShapeEvidencePhrase(g)));
        s = AnswerClaims.MadeOfParts.Replace(s, m => g.RegionCount == 1 ? "" : $" made of {AnswerClaims.CountWord(g.RegionCount)} separate parts");
        s = AnswerClaims.SingleRegion.Replace(s, m => AnswerClaims.CaseLike(m.Value, AnswerClaims.RegionPhrase(g.RegionCount)));
        s = AnswerClaims.SeparateCount.Replace(s, m =>
            AnswerClaims.ParseCount(m.Groups["n"].Value) == g.RegionCount ? m.Value : AnswerClaims.CaseLike(m.Value, AnswerClaims.RegionPhrase(g.RegionCount)));
        s = AnswerClaims.ShapeWord.Replace(s, m =>
        {
            var claimed = AnswerAgreement.Check(m.Value, facts);
            return claimed.Agrees ? m.Value : AnswerClaims.CaseLike(m.Value, AnswerClaims.ShapeAdjective(g) + (m.Value.EndsWith("spots", StringComparison.OrdinalIgnoreCase) ? " spots" : ""));
        });
        return Tidy(s);
    }

    /// <summary>The raw text without its anchors and the direct answer's frame, with whole sentences.</summary>
    private static string Body(string rawText)
    {
        var s = Anchor.Replace(rawText, " ");
        s = DirectFrame.Replace(s, " ");
        s = Tidy(s);
        s = s.TrimEnd(',', ';', ':', ' ', '-');
        if (s.Length > 0 && !".!?".Contains(s[^1])) s += ".";
        return s;
    }

    private static string Tidy(string s)
    {
        s = Regex.Replace(s, @"\s+", " ").Trim();
        s = SpaceBeforePunctuation.Replace(s, "");
        s = RepeatedStop.Replace(s, "$1");
        return s.TrimStart('.', ',', ';', ':', ' ');
    }
}
