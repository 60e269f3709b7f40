using System.Globalization;
using System.Text.RegularExpressions;
using AgVas.Data;
using AgVas.Synthesis;

namespace AgVas.Inference;

/// <summary>A statement of an answer that the mask contradicts.</summary>
/// <param name="Aspect">What the statement is about.</param>
/// <param name="Statement">The words of the answer, e.g. "less than 1% of the image".</param>
/// <param name="Mask">What the mask says instead, e.g. "large, 12.0 % of the image".</param>
public sealed record AnswerConflict(AnswerAspect Aspect, string Statement, string Mask);

/// <summary>The outcome of <see cref="AnswerAgreement.Check(string, MaskFacts)"/>.</summary>
/// <param name="Conflicts">Every statement the mask contradicts, in text order per aspect.</param>
/// <param name="Stated">The aspects the answer makes a statement about that agrees with the mask.</param>
public sealed record AnswerCheck(IReadOnlyList<AnswerConflict> Conflicts, IReadOnlySet<AnswerAspect> Stated)
{
    /// <summary>No statement contradicts the mask.</summary>
    public bool Agrees => Conflicts.Count == 0;

    /// <summary>No statement about <paramref name="aspect"/> contradicts the mask.</summary>
    public bool AgreesOn(AnswerAspect aspect) => Conflicts.All(c => c.Aspect != aspect);

    /// <summary>The answer states the verdict and, for an anomaly, its location and size, all as the mask says.</summary>
    public bool IsComplete(MaskFacts facts) => Agrees && Stated.Contains(AnswerAspect.Verdict)
        && (!facts.IsAnomalous || (Stated.Contains(AnswerAspect.Location) && Stated.Contains(AnswerAspect.Size)));
}

/// <summary>
/// Does an answer text agree with a mask? Reads the statements the Anomaly-Instruct vocabulary makes
/// (<see cref="AnswerClaims"/>) and compares each with the mask's facts (<see cref="MaskFacts"/>):
/// verdict (normal / anomalous); location (the 3×3 image grid cell, "… of the image"); size (the size class after its
/// article, "about N%" within one point of the area, "less than N%"); region count; shape. Against an empty mask every
/// location, size, region or shape statement is a conflict, as is an anomaly verdict. Statements outside this vocabulary
/// (the defect's type, its appearance) are not judged. Anchor tokens are ignored.
/// </summary>
public static class AnswerAgreement
{
    /// <summary>Checks <paramref name="text"/> against the facts of <paramref name="mask"/>.</summary>
    public static AnswerCheck Check(string text, BinaryMask mask) => Check(text, MaskFacts.Of(mask));

    /// <summary>Checks every statement of <paramref name="text"/> in the answer vocabulary against <paramref name="facts"/>.</summary>
    public static AnswerCheck Check(string text, MaskFacts facts)
    {
        var conflicts = new List<AnswerConflict>();
        var stated = new HashSet<AnswerAspect>();
        var g = facts.Geometry;
        string maskSize = g is null ? "empty" : $"{AnswerClaims.SizeWord(g.Size)}, {Percent(facts.AreaFraction)} of the image";

        void Judge(AnswerAspect aspect, string statement, bool agrees, string mask)
        {
            if (agrees) stated.Add(aspect);
            else conflicts.Add(new AnswerConflict(aspect, statement, mask));
        }

        foreach (Match m in AnswerClaims.AnomalousClaim.Matches(text))
            Judge(AnswerAspect.Verdict, m.Value, facts.IsAnomalous, "normal (empty mask)");
        foreach (Match m in AnswerClaims.NormalClaim.Matches(text))
            Judge(AnswerAspect.Verdict, m.Value, !facts.IsAnomalous, $"anomalous ({facts.AnomalyPixels} px)");

        foreach (Match m in AnswerClaims.Location.Matches(text))
            Judge(AnswerAspect.Location, m.Value, g is not null && AnswerClaims.NormaliseCell(m.Groups["cell"].Value) == g.ImageLocation,
                g is null ? "empty" : g.ImageLocation);
        if (g is null)
            foreach (Match m in AnswerClaims.ObjectLocation.Matches(text))
                Judge(AnswerAspect.Location, m.Value.TrimStart(',', ' '), false, "empty");

        foreach (Match m in AnswerClaims.SizeClaim.Matches(text))
            Judge(AnswerAspect.Size, m.Value, g is not null && AnswerClaims.ParseSize(m.Groups["size"].Value) == g.Size, maskSize);
        foreach (Match m in AnswerClaims.Coverage.Matches(text))
            Judge(AnswerAspect.Size, m.Value, g is not null && CoverageAgrees(m, facts.AreaFraction), maskSize);

        foreach (var (statement, count) in RegionCounts(text))
            Judge(AnswerAspect.Regions, statement, g is not null && count == g.RegionCount, g is null ? "empty" : $"{g.RegionCount} region(s)");

        foreach (var (statement, shape, orientation) in Shapes(text))
            Judge(AnswerAspect.Shape, statement, g is not null && shape == g.Shape && (orientation is null || orientation == g.Orientation),
                g is null ? "empty" : AnswerClaims.ShapeAdjective(g));

        // An aspect is stated only when nothing about it conflicts.
        stated.RemoveWhere(a => conflicts.Any(c => c.Aspect == a));
        return new AnswerCheck(conflicts, stated);
    }

    private static bool CoverageAgrees(Match m, double areaFraction)
    {
        double percent = 100 * areaFraction;
        if (m.Groups["lt"].Success) return percent < double.Parse(m.Groups["lt"].Value, CultureInfo.InvariantCulture);
        return Math.Abs(double.Parse(m.Groups["about"].Value, CultureInfo.InvariantCulture) - percent) < 1;
    }

    private static IEnumerable<(string Statement, int Count)> RegionCounts(string text)
    {
        foreach (Match m in AnswerClaims.SingleRegion.Matches(text)) yield return (m.Value, 1);
        foreach (Match m in AnswerClaims.SeparateCount.Matches(text))
            if (AnswerClaims.ParseCount(m.Groups["n"].Value) is { } n) yield return (m.Value, n);
        foreach (Match m in AnswerClaims.GroupCount.Matches(text))
            if (AnswerClaims.ParseCount(m.Groups["n"].Value) is { } n) yield return (m.Value, n);
    }

    private static IEnumerable<(string Statement, ShapeClass Shape, string? Orientation)> Shapes(string text)
    {
        foreach (Match m in AnswerClaims.ShapeWord.Matches(text))
        {
            var v = m.Value.ToLowerInvariant();
            var orientation = m.Groups["o"].Success ? m.Groups["o"].Value.ToLowerInvariant() : null;
            yield return v.EndsWith("line-like", StringComparison.Ordinal) ? (m.Value, ShapeClass.LineLike, orientation)
                : v == "roundish" ? (m.Value, ShapeClass.Round, null)
                : v == "irregularly shaped" ? (m.Value, ShapeClass.Irregular, null)
                : (m.Value, ShapeClass.Scattered, null);
        }
        foreach (Match m in AnswerClaims.ShapeEvidence.Matches(text))
        {
            var v = m.Value.ToLowerInvariant();
            yield return v.Contains("thin and stretched") ? (m.Value, ShapeClass.LineLike, m.Groups["o"].Success ? m.Groups["o"].Value.ToLowerInvariant() : null)
                : v.Contains("roughly round") ? (m.Value, ShapeClass.Round, null)
                : v.Contains("split into") ? (m.Value, ShapeClass.Scattered, null)
                : (m.Value, ShapeClass.Irregular, null);
        }
    }

    private static string Percent(double fraction) => (100 * fraction).ToString("0.##", CultureInfo.InvariantCulture) + " %";
}

/// <summary>How many answers of a run agree with their masks (<see cref="AnswerAgreement"/>): the model's raw texts and
/// the final (grounded) answers; the final ones agree by construction, so anything below 100 % is a bug.</summary>
/// <param name="Answers">Answers judged (failed images excluded).</param>
/// <param name="RawAgreeing">Raw model texts with no conflicting statement.</param>
/// <param name="FinalAgreeing">Final answers with no conflicting statement.</param>
/// <param name="RawAgreeingByAspect">Raw model texts with no conflict on each aspect.</param>
public sealed record AnswerAgreementSummary(int Answers, int RawAgreeing, int FinalAgreeing, IReadOnlyDictionary<AnswerAspect, int> RawAgreeingByAspect)
{
    /// <summary>Agreeing fraction of the raw texts; null without answers.</summary>
    public double? RawRate => Answers == 0 ? null : (double)RawAgreeing / Answers;
    /// <summary>Agreeing fraction of the final answers; null without answers.</summary>
    public double? FinalRate => Answers == 0 ? null : (double)FinalAgreeing / Answers;
    /// <summary>Fraction of the raw texts with no conflict on <paramref name="aspect"/>; null without answers.</summary>
    public double? RawRateOn(AnswerAspect aspect) => Answers == 0 ? null : (double)RawAgreeingByAspect[aspect] / Answers;

    /// <summary>Counts the agreement of each raw text and final answer with its mask's facts.</summary>
    public static AnswerAgreementSummary Of(IEnumerable<(string Raw, string Final, MaskFacts Facts)> answers)
    {
        int n = 0, raw = 0, final = 0;
        var byAspect = Enum.GetValues<AnswerAspect>().ToDictionary(a => a, _ => 0);
        foreach (var (rawText, finalText, facts) in answers)
        {
            n++;
            var r = AnswerAgreement.Check(rawText, facts);
            if (r.Agrees) raw++;
            foreach (var a in Enum.GetValues<AnswerAspect>()) if (r.AgreesOn(a)) byAspect[a]++;
            if (AnswerAgreement.Check(finalText, facts).Agrees) final++;
        }
        return new AnswerAgreementSummary(n, raw, final, byAspect);
    }

    /// <summary>Over the records of a prediction run that carry both texts and the facts.</summary>
    public static AnswerAgreementSummary Of(IEnumerable<PredictionRecord> records) =>
        Of(records.Where(r => r is { RawText: not null, Text: not null, Facts: not null }).Select(r => (r.RawText!, r.Text!, r.Facts!)));

    /// <summary>"raw model text 28.6 % (2/7), final answers 100.0 % (7/7)".</summary>
    public string Describe() =>
        $"raw model text {Rate(RawRate)} ({RawAgreeing}/{Answers}), final answers {Rate(FinalRate)} ({FinalAgreeing}/{Answers})";

    /// <summary>"verdict 71.4 %, location 42.9 %, …" for the raw texts.</summary>
    public string DescribeRawByAspect() =>
        string.Join(", ", Enum.GetValues<AnswerAspect>().Select(a => $"{a.ToString().ToLowerInvariant()} {Rate(RawRateOn(a))}"));

    private static string Rate(double? rate) => rate is { } r ? (100 * r).ToString("F1", CultureInfo.InvariantCulture) + " %" : "—";
}
