using System.Globalization;
using System.Text.RegularExpressions;
using AgVas.Synthesis;

namespace AgVas.Inference;

/// <summary>What an answer statement is about, for <see cref="AnswerAgreement"/> and <see cref="AnswerGrounding"/>.</summary>
public enum AnswerAspect
{
    /// <summary>Normal or anomalous.</summary>
    Verdict,
    /// <summary>The 3×3 grid cell of the image.</summary>
    Location,
    /// <summary>Size class or area.</summary>
    Size,
    /// <summary>Number of regions.</summary>
    Regions,
    /// <summary>Round, line-like, irregular or scattered.</summary>
    Shape,
}

/// <summary>
/// The vocabulary of the Anomaly-Instruct answers (<see cref="InstructCurator"/>), in both directions: the patterns that
/// find a statement about the mask in a text (shared by the checker and the rewriter, so what one flags the other
/// fixes), and the phrases that state a mask's facts the way the training answers do. The wording mirrors the
/// curator's; a test runs curated answers through <see cref="AnswerAgreement"/> so the two cannot drift apart.
/// </summary>
internal static class AnswerClaims
{
    private const RegexOptions Options = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant;
    private const string Number = "one|two|three|four|five|six|seven|eight|nine|ten|\\d+";

    /// <summary>"the bottom right of the image" (also "bottom-right", "center", "middle").</summary>
    public static readonly Regex Location = new(
        @"\bthe (?<cell>(?:top|bottom)[ -](?:left|right)|top|bottom|left|right|centre|center|middle) of the image\b", Options);

    /// <summary>A location in the object's frame (", on the upper left-hand part of the hazelnut"): it needs the image's
    /// foreground to be checked, so it is checked only against an empty mask and the rewriter drops it.</summary>
    public static readonly Regex ObjectLocation = new(@",?\s*\bon the (?:[a-z-]+ ){0,2}part of the [^.,;:!?\[]*", Options);

    /// <summary>A size class after its article: "a small", "a medium-sized".</summary>
    public static readonly Regex SizeClaim = new(@"\b(?<art>an?) (?<size>tiny|small|medium-sized|medium|large)\b", Options);

    /// <summary>"less than 1% of the image", "about 12% of the image".</summary>
    public static readonly Regex Coverage = new(
        @"\b(?:less than (?<lt>\d+(?:\.\d+)?) ?%|about (?<about>\d+(?:\.\d+)?) ?%) of the image\b", Options);

    public static readonly Regex SingleRegion = new(@"\ba single connected region\b", Options);
    public static readonly Regex SeparateCount = new($@"\b(?<n>{Number}) separate (?:regions|parts|spots)\b", Options);
    public static readonly Regex GroupCount = new($@"\bgroup of (?<n>{Number}) scattered spots\b", Options);
    /// <summary>" made of two separate parts" (the curator's two-region suffix).</summary>
    public static readonly Regex MadeOfParts = new($@"\s*\bmade of (?<n>{Number}) separate parts\b", Options);

    /// <summary>The curator's shape evidence sentences ("its outline is compact and roughly round").</summary>
    public static readonly Regex ShapeEvidence = new(
        $@"\bits shape is thin and stretched(?: \((?<o>horizontal|vertical|diagonal)[^)]*\))?|\bits outline is compact and roughly round\b|\bit is split into (?:{Number}) separate spots\b|\bits outline is irregular\b",
        Options);

    /// <summary>A shape word anywhere: "roundish", "vertical line-like", "irregularly shaped", "scattered spots".</summary>
    public static readonly Regex ShapeWord = new(
        @"\b(?:(?<o>horizontal|vertical|diagonal) )?line-like\b|\broundish\b|\birregularly shaped\b|\bscattered spots\b", Options);

    /// <summary>The curator's noun phrase: article, size, shape, the defect's name, the two-part suffix
    /// ("a small thin vertical line-like crack", "a large group of four scattered spots (hole)"). The name is what the
    /// mask cannot tell and the rewriter keeps.</summary>
    public static readonly Regex NounPhrase = new(
        $@"\b(?<art>an?) (?:(?<size>tiny|small|medium-sized|medium|large) )?" +
        $@"(?:group of (?:{Number}) scattered spots(?: \((?<name>[^)]*)\))?" +
        @"|thin (?:(?:horizontal|vertical|diagonal) )?line-like (?<name>[a-z][a-z -]*?)" +
        @"|roundish (?<name>[a-z][a-z -]*?)" +
        @"|irregularly shaped (?<name>[a-z][a-z -]*?))" +
        $@"(?: made of (?:{Number}) separate parts)?" +
        @"(?=[,.;:!?()]| in | located | on | at | with | that | which | and |\s*\[|\s*$)", Options);

    /// <summary>Statements that the image is normal (the curator's normal answers and ours).</summary>
    public static readonly Regex NormalClaim = new(
        @"\bis normal\b|\bnot anomalous\b|\bno anomal(?:y|ies)\b|\bno defects?\b|\bdefect-free\b|\bnothing stands out\b|\bnothing departs\b" +
        @"|\bno region differs\b|\bmask is empty\b|\bnothing is segmented\b|\bno deviating region\b|\bmatches its normal state\b" +
        @"|\bagrees with its normal appearance\b|\bi see an intact\b|\bwith no marks\b", Options);

    /// <summary>Statements that something is anomalous (the curator's observation, diagnosis, summary and explanation openings).</summary>
    public static readonly Regex AnomalousClaim = new(
        @"(?<!\bno )\banomaly found\b|\bis anomalous\b|\b(?:there is|i can see|the image shows) an? \b|\bthe anomalous area\b" +
        @"|\bthis deviation\b|\bthe deviation is\b|\bdoes not belong to the normal\b|\bmarks it as a defect\b|\bwould not show\b", Options);

    /// <summary>Nouns the curator uses when no defect is named; they belong to a shape (none to scattered spots).</summary>
    private static readonly Dictionary<string, ShapeClass> ShapeNouns = new(StringComparer.OrdinalIgnoreCase)
    {
        ["spot"] = ShapeClass.Round, ["blob"] = ShapeClass.Round, ["region"] = ShapeClass.Irregular, ["patch"] = ShapeClass.Irregular,
        ["mark"] = ShapeClass.LineLike,
    };

    public static int? ParseCount(string word) => word.ToLowerInvariant() switch
    {
        "one" => 1, "two" => 2, "three" => 3, "four" => 4, "five" => 5, "six" => 6, "seven" => 7, "eight" => 8, "nine" => 9, "ten" => 10,
        var d => int.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null,
    };

    public static SizeClass? ParseSize(string word) => word.ToLowerInvariant() switch
    {
        "tiny" => SizeClass.Tiny, "small" => SizeClass.Small, "medium" or "medium-sized" => SizeClass.Medium, "large" => SizeClass.Large, _ => null,
    };

    /// <summary>"bottom-right", "center", "middle" → the grid names of <see cref="MaskAttributes.GridName"/>.</summary>
    public static string NormaliseCell(string cell) => cell.ToLowerInvariant().Replace('-', ' ') switch
    {
        "center" or "middle" => "centre",
        var c => c,
    };

    /// <summary>The name in a <see cref="NounPhrase"/> match ("dent", "colour defect", also the curator's shape nouns
    /// "spot", "region"), or null.</summary>
    public static string? DefectName(Match nounPhrase)
    {
        var g = nounPhrase.Groups["name"];
        var name = g.Success ? g.Value.Trim() : "";
        return name.Length == 0 ? null : name;
    }

    /// <summary><paramref name="name"/> unless it is a shape noun of another shape than <paramref name="shape"/>'s (a "spot" on a line).</summary>
    private static string? FitName(ShapeClass shape, string? name) =>
        name is not null && ShapeNouns.TryGetValue(name, out var of) && of != shape ? null : name;

    // The phrases below are the curator's (InstructCurator), with its first choice wherever it draws one at random.

    public static string SizeWord(SizeClass s) => s switch
    {
        SizeClass.Tiny => "tiny",
        SizeClass.Small => "small",
        SizeClass.Medium => "medium-sized",
        _ => "large",
    };

    public static string CoveragePhrase(double areaFraction) =>
        areaFraction < 0.01 ? "less than 1% of the image" : $"about {Math.Round(areaFraction * 100).ToString(CultureInfo.InvariantCulture)}% of the image";

    public static string LocationPhrase(MaskGeometry g) => $"the {g.ImageLocation} of the image";

    /// <summary>Size + shape + the defect's name (or the shape's noun), e.g. "small thin vertical line-like crack",
    /// "large group of four scattered spots (hole)", "medium-sized irregularly shaped region made of two separate parts".
    /// A shape noun of another shape ("spot" for a line) gives way to the shape's own.</summary>
    public static string Noun(MaskGeometry g, string? name)
    {
        string size = SizeWord(g.Size);
        name = FitName(g.Shape, name);
        return g.Shape switch
        {
            ShapeClass.Scattered => $"{size} group of {CountWord(g.RegionCount)} scattered spots" + (name is null ? "" : $" ({name})"),
            ShapeClass.LineLike => $"{size} thin {g.Orientation} line-like {name ?? "mark"}",
            ShapeClass.Round => $"{size} roundish {name ?? "spot"}",
            _ => $"{size} irregularly shaped {name ?? "region"}",
        } + (g.RegionCount == 2 ? " made of two separate parts" : "");
    }

    public static string ShapeAdjective(MaskGeometry g) => g.Shape switch
    {
        ShapeClass.LineLike => $"{g.Orientation} line-like",
        ShapeClass.Round => "roundish",
        ShapeClass.Scattered => "scattered",
        _ => "irregularly shaped",
    };

    public static string RegionPhrase(int regions) => regions == 1 ? "a single connected region" : $"{CountWord(regions)} separate regions";

    public static string ShapeEvidencePhrase(MaskGeometry g) => g.Shape switch
    {
        ShapeClass.LineLike => $"its shape is thin and stretched ({g.Orientation}, elongation {g.Elongation.ToString("F1", CultureInfo.InvariantCulture)})",
        ShapeClass.Round => "its outline is compact and roughly round",
        ShapeClass.Scattered => $"it is split into {CountWord(g.RegionCount)} separate spots",
        _ => "its outline is irregular",
    };

    public static string CountWord(int n) => n switch
    {
        1 => "one", 2 => "two", 3 => "three", 4 => "four", 5 => "five", 6 => "six", 7 => "seven", 8 => "eight", 9 => "nine", 10 => "ten",
        _ => n.ToString(CultureInfo.InvariantCulture),
    };

    public static string Article(string noun) => "aeiou".Contains(char.ToLowerInvariant(noun[0])) ? "an" : "a";

    /// <summary><paramref name="replacement"/> with its first letter capitalised when <paramref name="original"/>'s is.</summary>
    public static string CaseLike(string original, string replacement) =>
        original.Length > 0 && char.IsUpper(original[0]) && replacement.Length > 0 ? char.ToUpperInvariant(replacement[0]) + replacement[1..] : replacement;
}
