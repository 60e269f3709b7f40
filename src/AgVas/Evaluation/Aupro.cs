namespace AgVas.Evaluation;

/// <summary>
/// AUPRO as the MVTec AD authors define it (Bergmann et al., reference <c>compute_pro</c> + <c>trapezoid</c>):
/// the ground truth's 8-connected components are the regions; at each threshold PRO is the mean over all regions of
/// the category of the fraction of the region's pixels at or above it, FPR the fraction of normal pixels at or above
/// it. The curve (0,0) → one point per distinct score → (1,1), clipped at 1, is integrated with the trapezoidal rule
/// up to <see cref="FprLimit"/> (linear interpolation at the limit) and divided by the limit.
/// Undefined (null) without regions or without normal pixels.
/// </summary>
public sealed class Aupro : ICurveMetric
{
    /// <summary>The customary integration limit.</summary>
    public const double DefaultFprLimit = 0.3;

    private readonly CurveTotals _totals;
    private double _x, _y, _area;
    private bool _done;

    public Aupro(CurveTotals totals, double fprLimit = DefaultFprLimit)
    {
        if (!(fprLimit > 0 && fprLimit <= 1)) throw new ArgumentOutOfRangeException(nameof(fprLimit), fprLimit, "the FPR limit must be in (0, 1]");
        _totals = totals;
        FprLimit = fprLimit;
    }

    public double FprLimit { get; }

    public void Update(ReadOnlySpan<CurveStep> steps)
    {
        if (_done || _totals.Negatives == 0 || _totals.Regions == 0) return;
        double negatives = _totals.Negatives, regions = _totals.Regions;
        foreach (ref readonly var s in steps)
        {
            if (Add(s.FalsePositives / negatives, Math.Min(s.RegionOverlap / regions, 1.0))) return;
        }
    }

    public double? Compute()
    {
        if (_totals.Negatives == 0 || _totals.Regions == 0) return null;
        if (!_done) Add(1.0, 1.0);
        return _area / FprLimit;
    }

    /// <summary>Adds the segment to (x, y); returns true once the limit is passed.</summary>
    private bool Add(double x, double y)
    {
        if (x <= FprLimit)
        {
            _area += (x - _x) * (y + _y) / 2;
            _x = x;
            _y = y;
            return false;
        }
        double yAtLimit = _y + (y - _y) * (FprLimit - _x) / (x - _x);
        _area += (FprLimit - _x) * (yAtLimit + _y) / 2;
        _done = true;
        return true;
    }
}
