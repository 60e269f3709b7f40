namespace AgVas.Data;

/// <summary>How a ground-truth mask file's luminance is binarised (per source; see the dataset's conventions).</summary>
public enum MaskRule
{
    /// <summary><c>gt0</c>: luminance &gt; 0 is anomaly (the default).</summary>
    GreaterThanZero,
    /// <summary><c>ge128</c>: luminance &gt;= 128 is anomaly.</summary>
    AtLeast128,
}
