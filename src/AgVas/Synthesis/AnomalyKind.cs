namespace AgVas.Synthesis;

/// <summary>The synthetic defect kinds painted onto normal images (docs/design.md §8, Anomaly-Seg (a)).</summary>
public enum AnomalyKind
{
    /// <summary>DRAEM: a Perlin-noise-shaped region blended with a foreign texture.</summary>
    TextureBlend,
    /// <summary>A patch cut from the same or another image, jittered, pasted elsewhere.</summary>
    CutPaste,
    /// <summary>A thin curved stroke, brighter or darker than the surface.</summary>
    Scratch,
    /// <summary>A dark round cavity with inner shading and a lit rim.</summary>
    Hole,
    /// <summary>A shallow depression or bump: directional shading over a round blob.</summary>
    Dent,
    /// <summary>An irregular translucent blot with a darker rim.</summary>
    Stain,
    /// <summary>One or more small, saturated spots of a foreign colour.</summary>
    ColourSpot,
    /// <summary>Branching, jagged thin dark lines.</summary>
    Crack,
    /// <summary>A piece bitten out of the object's outline (background shows); on textures a punched-through gap.</summary>
    MissingPiece,
    /// <summary>A large (4–45 % of the image), smooth-edged region of altered tissue or material: pigmented (darker,
    /// tinted), a raised mass (redder, shaded as a bump) or a change of texture (smoothed and darker, like a
    /// hypoechoic mass). The other kinds stay under 12 %; lesions, polyps and tumours often fill a fifth of the frame.</summary>
    Lesion,
    /// <summary>A raised, dome-shaped growth of the surface itself (a polyp, a nodule, a swelling, a blister), as large as
    /// a lesion: the surface inside is magnified towards the centre (the dome comes towards the camera), shaded by its
    /// slope with a darker foot, sometimes with highlights on top; its colour barely changes, so shape and shading tell
    /// it. Drawn only when named (see <see cref="AnomalyKinds.Default"/>).</summary>
    Mass,
}

/// <summary>The intended size of a synthetic defect (the curated size class is computed from the final mask).</summary>
public enum DefectSize { Small, Medium, Large }

/// <summary>Names of kinds and sizes as they appear on the command line, in folders and in manifests.</summary>
public static class AnomalyKinds
{
    public static IReadOnlyList<AnomalyKind> All { get; } = Enum.GetValues<AnomalyKind>();

    /// <summary>The kinds drawn when none are named: every kind but <see cref="AnomalyKind.Mass"/>, which came later,
    /// so that a configuration written before it still synthesizes the same samples.</summary>
    public static IReadOnlyList<AnomalyKind> Default { get; } = All.Where(k => k != AnomalyKind.Mass).ToArray();

    /// <summary>The defect-type name, e.g. "colour_spot".</summary>
    public static string Name(AnomalyKind kind) => kind switch
    {
        AnomalyKind.TextureBlend => "texture_blend",
        AnomalyKind.CutPaste => "cut_paste",
        AnomalyKind.Scratch => "scratch",
        AnomalyKind.Hole => "hole",
        AnomalyKind.Dent => "dent",
        AnomalyKind.Stain => "stain",
        AnomalyKind.ColourSpot => "colour_spot",
        AnomalyKind.Crack => "crack",
        AnomalyKind.MissingPiece => "missing_piece",
        AnomalyKind.Lesion => "lesion",
        AnomalyKind.Mass => "mass",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>The error text for a name that is no kind, listing the known names.</summary>
    public static string Unknown(string name) => $"unknown anomaly kind '{name}' (known: {string.Join(", ", All.Select(Name))})";

    /// <summary>Parses a defect-type name; <see cref="ArgumentException"/> (<see cref="Unknown"/>) when unknown.</summary>
    public static AnomalyKind Parse(string name) => TryParse(name, out var kind) ? kind : throw new ArgumentException(Unknown(name));

    /// <summary>Parses a defect-type name (case-insensitive, '-' or '_'); false when unknown.</summary>
    public static bool TryParse(string name, out AnomalyKind kind)
    {
        var key = name.Trim().Replace('-', '_').ToLowerInvariant();
        foreach (var k in All)
            if (Name(k) == key) { kind = k; return true; }
        kind = default;
        return false;
    }
}
