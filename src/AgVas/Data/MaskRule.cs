namespace AgVas.Data;

/// <summary>How a ground-truth mask file's luminance is binarised (per source; see the dataset's conventions).</summary>
public enum MaskRule
{
    /// <summary><c>gt0</c>: luminance &gt; 0 is anomaly (the default).</summary>
    GreaterThanZero,
    /// <summary><c>ge128</c>: luminance &gt;= 128 is anomaly.</summary>
    AtLeast128,
}

/// <summary>The names of <see cref="MaskRule"/> used in manifests and on the command line: <c>gt0</c> and <c>ge128</c>.</summary>
public static class MaskRules
{
    public static string Name(this MaskRule rule) => rule switch
    {
        MaskRule.GreaterThanZero => "gt0",
        MaskRule.AtLeast128 => "ge128",
        _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, "unknown mask rule"),
    };

    /// <summary>Parses <c>gt0</c> or <c>ge128</c> (case-insensitive, surrounding spaces ignored); false otherwise.</summary>
    public static bool TryParse(string? name, out MaskRule rule)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case "gt0": rule = MaskRule.GreaterThanZero; return true;
            case "ge128": rule = MaskRule.AtLeast128; return true;
            default: rule = default; return false;
        }
    }
}
