using System.Text.Json.Serialization;
using AgVas.Data;
using AgVas.Modeling;
using AgVas.Text;

namespace AgVas.Synthesis;

/// <summary>One Anomaly-Instruct record (docs/design.md §8): the five text fields plus the attributes they were written from.</summary>
public sealed record InstructRecord(
    [property: JsonPropertyName("image")] string Image,
    [property: JsonPropertyName("mask")] IReadOnlyList<string> Masks,
    [property: JsonPropertyName("category")] string Category,
    [property: JsonPropertyName("defect")] string? Defect,
    [property: JsonPropertyName("anomalous")] bool IsAnomalous,
    [property: JsonPropertyName("expectation")] string Expectation,
    [property: JsonPropertyName("observation")] string Observation,
    [property: JsonPropertyName("diagnosis")] string Diagnosis,
    [property: JsonPropertyName("summary")] string Summary,
    [property: JsonPropertyName("explanation")] string Explanation,
    [property: JsonPropertyName("attributes")] AnomalyAttributes? Attributes);

/// <summary>Writes Anomaly-Instruct records deterministically from the mask and the image (ours; the paper used a 241B
/// model). Wording is drawn from several templates per field by a seeded stream; every template only states what
/// <see cref="AnomalyAttributes"/> says, so the text cannot contradict the mask. Image locations are always phrased
/// "… of the image" and object locations "… part of the &lt;object&gt;" with a separate vocabulary (upper/lower,
/// left-hand/right-hand, central), so the two frames never read alike.</summary>
public static class InstructCurator
{
    /// <summary>A record for an image and its mask (empty mask: a normal image).</summary>
    public static InstructRecord Describe(RgbImage image, BinaryMask mask, string category, string? defect, string imagePath,
        IReadOnlyList<string> maskPaths, ulong seed)
    {
        var rng = new SynthRandom(seed);
        string obj = HumaniseCategory(category);
        bool anomalous = mask.CountPositive() > 0;
        var fg = Foreground.Estimate(image);
        string expectation = Expectation(obj, fg.IsObject, ref rng);
        if (!anomalous)
        {
            return new InstructRecord(imagePath, maskPaths, category, defect, false, expectation,
                Pick(ref rng,
                    $"The {obj} looks uniform and complete; nothing stands out from its usual appearance.",
                    $"I see an intact {obj} with consistent colour and texture everywhere.",
                    $"The whole {obj} has an even appearance, with no marks, gaps or foreign spots."),
                Pick(ref rng,
                    $"Nothing departs from the expected state, so the {obj} is normal.",
                    $"Since no region differs from the normal appearance, there is no defect.",
                    $"The {obj} matches its normal state; it is not anomalous."),
                Pick(ref rng,
                    $"The {obj} is normal; there is no anomaly. {Anchors.Suffix}",
                    $"No anomaly is present in this {obj}. {Anchors.Suffix}",
                    $"This {obj} is defect-free. {Anchors.Suffix}"),
                Pick(ref rng,
                    $"No region differs in brightness, colour, texture or shape from the rest of the {obj}, so the anomaly mask is empty.",
                    $"Every part of the {obj} agrees with its normal appearance; with no deviating region, nothing is segmented."),
                null);
        }
        var a = MaskAttributes.Compute(image, mask, defect, fg);
        string what = Noun(a, ref rng);
        string where = Where(a, obj);
        string looks = Appearance(a, ref rng);
        string coverage = Coverage(a);
        string observation = Pick(ref rng,
            $"There is {Article(what)} {what} in the {where}. It is {looks}, and covers {coverage}.",
            $"I can see {Article(what)} {what} located in the {where}; it is {looks}. It covers {coverage}.",
            $"The image shows {Article(what)} {what} in the {where}, {looks}, covering {coverage}.");
        string kind = a.DefectName is { } d ? Pick(ref rng, $"most likely a {d}", $"consistent with a {d}", $"a {d}") : Guess(a);
        string diagnosis = Pick(ref rng,
            $"A normal {obj} has no such region, so this deviation breaks its expected appearance: it is {kind}.",
            $"This does not belong to the normal {obj}; the deviation is {kind}.",
            $"The region interrupts the otherwise regular {obj}, which marks it as a defect, {kind}.");
        string summary = Pick(ref rng,
            $"The {obj} is anomalous: {Article(what)} {what} in the {where}. {Anchors.Suffix}",
            $"There is {Article(what)} {what} in the {where}. {Anchors.Suffix}",
            $"Anomaly found: {Article(what)} {what}, {looks}, in the {where}. {Anchors.Suffix}");
        string explanation = Pick(ref rng,
            $"The anomalous area forms {RegionPhrase(a)} centred in the {ImageWhere(a)}, covering {coverage}. {Capitalise(looks)}, {ShapeEvidence(a)}. Because a normal {obj} shows none of this, the area is {kind}.",
            $"Compared with the surface around it, the area is {looks}; {ShapeEvidence(a)}. It forms {RegionPhrase(a)} in the {ImageWhere(a)} and covers {coverage}, which a normal {obj} would not show — {kind}.");
        return new InstructRecord(imagePath, maskPaths, category, defect, true, expectation, observation, diagnosis, summary, explanation, a);
    }

    /// <summary>"hazelnut", "magnetic tile", "weave texture" (from "texture_weave"), "breast ultrasound" (from "breast_us") from a category id.</summary>
    public static string HumaniseCategory(string category)
    {
        var words = category.Replace('_', ' ').Replace('-', ' ').Trim().ToLowerInvariant()
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(w => w == "us" ? "ultrasound" : w).ToList(); // "breast_us" → "breast ultrasound"
        if (words.Count > 1 && words[0] == "texture") words = [.. words.Skip(1), "texture"];
        return string.Join(' ', words);
    }

    /// <summary>The normal state of the object (also the expert prior of Describe-then-Segment-Plus).</summary>
    public static string Expectation(string obj, bool isObject, ref SynthRandom rng) => isObject
        ? Pick(ref rng,
            $"A normal {obj} is complete and intact, with an unbroken outline, even colour and a consistent surface, free of marks, holes or foreign material.",
            $"In its normal state the {obj} has its full shape and a clean, uniform surface without scratches, cracks, stains or missing parts.",
            $"A defect-free {obj} shows a regular outline and consistent colour and texture across its whole surface.")
        : Pick(ref rng,
            $"A normal {obj} surface is uniform: its pattern, colour and texture repeat regularly with no marks, holes, stains or foreign material.",
            $"In its normal state the {obj} shows an even, regular texture and consistent colour everywhere.",
            $"A defect-free {obj} has a homogeneous surface whose pattern is unbroken across the whole image.");

    private static string Where(AnomalyAttributes a, string obj) =>
        a.ObjectLocation is { } o ? $"{ImageWhere(a)}, on the {o} part of the {obj}" : ImageWhere(a);

    private static string ImageWhere(AnomalyAttributes a) => a.ImageLocation + " of the image";

    private static string SizeWord(SizeClass s) => s switch
    {
        SizeClass.Tiny => "tiny",
        SizeClass.Small => "small",
        SizeClass.Medium => "medium-sized",
        _ => "large",
    };

    /// <summary>Size + shape (+ defect name), e.g. "small thin diagonal line-like scratch", "large cluster of 4 scattered spots".</summary>
    private static string Noun(AnomalyAttributes a, ref SynthRandom rng)
    {
        string size = SizeWord(a.Size);
        string name = a.DefectName is { } d ? " " + d : "";
        return a.Shape switch
        {
            ShapeClass.Scattered => $"{size} group of {CountWord(a.RegionCount)} scattered spots" + (name.Length > 0 ? $" ({a.DefectName})" : ""),
            ShapeClass.LineLike => $"{size} thin {a.Orientation} line-like" + (name.Length > 0 ? name : " mark"),
            ShapeClass.Round => $"{size} roundish" + (name.Length > 0 ? name : Pick(ref rng, " spot", " blob")),
            _ => $"{size} irregularly shaped" + (name.Length > 0 ? name : Pick(ref rng, " region", " patch")),
        } + (a.RegionCount == 2 ? " made of two separate parts" : "");
    }

    private static string RegionPhrase(AnomalyAttributes a) =>
        a.RegionCount == 1 ? "a single connected region" : $"{CountWord(a.RegionCount)} separate regions";

    private static string ShapeEvidence(AnomalyAttributes a) => a.Shape switch
    {
        ShapeClass.LineLike => $"its shape is thin and stretched ({a.Orientation}, elongation {a.Elongation:F1})",
        ShapeClass.Round => "its outline is compact and roughly round",
        ShapeClass.Scattered => $"it is split into {CountWord(a.RegionCount)} separate spots",
        _ => "its outline is irregular",
    };

    private static string Appearance(AnomalyAttributes a, ref SynthRandom rng)
    {
        var parts = new List<string>();
        parts.Add(a.Tone switch
        {
            Tone.Darker => Pick(ref rng, "darker than the surrounding surface", "darker than its surroundings"),
            Tone.Brighter => Pick(ref rng, "brighter than the surrounding surface", "lighter than its surroundings"),
            _ => "about as bright as its surroundings",
        });
        if (a.ColourName is { } c) parts.Add(Pick(ref rng, $"{c} in colour unlike the area around it", $"with a {c} colour that does not match the surface"));
        if (a.TextureRatio >= MaskAttributes.RougherRatio) parts.Add("with a rougher, more contrasted texture");
        else if (a.TextureRatio <= MaskAttributes.SmootherRatio) parts.Add("with a smoother, flatter texture than the surface");
        return parts.Count == 1 ? parts[0] : string.Join(", ", parts.Take(parts.Count - 1)) + " and " + parts[^1];
    }

    private static string Coverage(AnomalyAttributes a) =>
        a.AreaFraction < 0.01 ? "less than 1% of the image" : $"about {Math.Round(a.AreaFraction * 100)}% of the image";

    /// <summary>A cautious defect guess from the attributes when the dataset gives no name.</summary>
    private static string Guess(AnomalyAttributes a) => (a.Shape, a.Tone) switch
    {
        (ShapeClass.LineLike, Tone.Darker) => "likely a crack or a dark scratch",
        (ShapeClass.LineLike, _) => "likely a scratch",
        (ShapeClass.Round, Tone.Darker) => "likely a hole, dent or dark spot",
        (ShapeClass.Scattered, _) => "likely contamination or spots",
        (_, _) when a.ColourName is not null => "likely a stain or foreign colour",
        _ => "likely surface damage",
    };

    private static string CountWord(int n) => n switch
    {
        2 => "two", 3 => "three", 4 => "four", 5 => "five", 6 => "six", 7 => "seven", 8 => "eight", 9 => "nine", 10 => "ten",
        _ => n.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static string Article(string noun) => "aeiou".Contains(char.ToLowerInvariant(noun[0])) ? "an" : "a";

    private static string Capitalise(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    private static string Pick(ref SynthRandom rng, params string[] options) => options[rng.Next(options.Length)];
}
