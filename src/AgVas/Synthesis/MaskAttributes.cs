using AgVas.Data;

namespace AgVas.Synthesis;

/// <summary>Size class from the mask's area fraction of the image (thresholds in <see cref="MaskAttributes"/>).</summary>
public enum SizeClass { Tiny, Small, Medium, Large }

/// <summary>Shape class of the mask (rules in <see cref="MaskAttributes"/>).</summary>
public enum ShapeClass { LineLike, Round, Irregular, Scattered }

/// <summary>Brightness of the defect against the ring around it.</summary>
public enum Tone { Darker, Brighter, Similar }

/// <summary>The attributes of an anomaly computed from its mask and image — what Anomaly-Instruct text is written from
/// (docs/design.md §8, ours). Positions are fractions of the image (x right, y down).</summary>
/// <param name="AreaFraction">Mask pixels / image pixels.</param>
/// <param name="Size">Class of <paramref name="AreaFraction"/>.</param>
/// <param name="RegionCount">Number of 8-connected regions.</param>
/// <param name="CentroidX">Mask centroid, fraction of the width.</param>
/// <param name="CentroidY">Mask centroid, fraction of the height.</param>
/// <param name="GridRow">Row of the 3×3 image grid holding the centroid: 0 top, 1 middle, 2 bottom.</param>
/// <param name="GridColumn">Column of the 3×3 grid: 0 left, 1 centre, 2 right.</param>
/// <param name="ObjectRow">Row of the 3×3 grid over the object's bounding box (null when no object stands out: a texture).</param>
/// <param name="ObjectColumn">Column of the object grid (null for textures).</param>
/// <param name="Elongation">sqrt(λ1/λ2) of the largest region's second moments (1 for a disc).</param>
/// <param name="Compactness">Area / (4π·sqrt(λ1·λ2)) of the largest region: 1 for a filled ellipse, lower for ragged or hollow shapes.</param>
/// <param name="Slenderness">(perimeter/2)² / area of the largest region, perimeter in pixel edges: about length/width for a thin line, 4–5 for squares and discs.</param>
/// <param name="Shape">Shape class.</param>
/// <param name="Orientation">"horizontal", "vertical" or "diagonal" for line-like shapes, else null.</param>
/// <param name="LumaDelta">Mean luma inside minus mean luma of the surrounding ring.</param>
/// <param name="Tone">Class of <paramref name="LumaDelta"/>.</param>
/// <param name="ColourShift">Distance between the mean opponent-colour chroma inside and in the ring.</param>
/// <param name="ColourName">Name of the inside colour when it differs from the ring's (<see cref="MaskAttributes.ColourThreshold"/>), else null.</param>
/// <param name="TextureRatio">Luma standard deviation inside / in the ring.</param>
/// <param name="DefectName">Human-readable defect type from the dataset (null if none).</param>
public sealed record AnomalyAttributes(
    double AreaFraction, SizeClass Size, int RegionCount,
    double CentroidX, double CentroidY, int GridRow, int GridColumn, int? ObjectRow, int? ObjectColumn,
    double Elongation, double Compactness, double Slenderness, ShapeClass Shape, string? Orientation,
    double LumaDelta, Tone Tone, double ColourShift, string? ColourName, double TextureRatio, string? DefectName)
{
    /// <summary>"top left", "top", "top right", "left", "centre", "right", "bottom left", "bottom", "bottom right".</summary>
    public string ImageLocation => MaskAttributes.GridName(GridRow, GridColumn);

    /// <summary>"upper left", ..., "central", ... part of the object, or null for textures.</summary>
    public string? ObjectLocation => ObjectRow is { } r && ObjectColumn is { } c ? MaskAttributes.ObjectGridName(r, c) : null;
}

/// <summary>The attributes of a mask that need no image (the geometric part of <see cref="AnomalyAttributes"/>, computed by
/// the same code): what an answer about a predicted mask can be checked against. Positions are fractions of the image
/// (x right, y down).</summary>
/// <param name="Pixels">Mask pixels.</param>
/// <param name="AreaFraction">Mask pixels / image pixels.</param>
/// <param name="Size">Class of <paramref name="AreaFraction"/>.</param>
/// <param name="RegionCount">Number of 8-connected regions.</param>
/// <param name="CentroidX">Mask centroid, fraction of the width.</param>
/// <param name="CentroidY">Mask centroid, fraction of the height.</param>
/// <param name="GridRow">Row of the 3×3 image grid holding the centroid: 0 top, 1 middle, 2 bottom.</param>
/// <param name="GridColumn">Column of the 3×3 grid: 0 left, 1 centre, 2 right.</param>
/// <param name="Elongation">sqrt(λ1/λ2) of the largest region's second moments (1 for a disc).</param>
/// <param name="Compactness">Area / (4π·sqrt(λ1·λ2)) of the largest region.</param>
/// <param name="Slenderness">(perimeter/2)² / area of the largest region, perimeter in pixel edges.</param>
/// <param name="Shape">Shape class.</param>
/// <param name="Orientation">"horizontal", "vertical" or "diagonal" for line-like shapes, else null.</param>
public sealed record MaskGeometry(
    int Pixels, double AreaFraction, SizeClass Size, int RegionCount, double CentroidX, double CentroidY, int GridRow, int GridColumn,
    double Elongation, double Compactness, double Slenderness, ShapeClass Shape, string? Orientation)
{
    /// <summary>"top left", "top", "top right", "left", "centre", "right", "bottom left", "bottom", "bottom right".</summary>
    public string ImageLocation => MaskAttributes.GridName(GridRow, GridColumn);
}

/// <summary>Computes <see cref="AnomalyAttributes"/>. Documented thresholds:
/// size: tiny &lt; 0.1 %, small &lt; 1 %, medium &lt; 5 %, large ≥ 5 % of the image;
/// shape: ≥ 3 regions → scattered; else, on the largest region, elongation ≥ 4 or slenderness ≥ 12 → line-like,
/// elongation &lt; 2 and compactness ≥ 0.85 → round, otherwise irregular;
/// tone: luma difference to the ring beyond ±<see cref="ToneThreshold"/> → darker / brighter;
/// colour: chroma shift ≥ <see cref="ColourThreshold"/> → named colour; texture: std ratio ≥ 1.6 rougher, ≤ 0.6 smoother.
/// The ring is the mask dilated by clamp(sqrt(area)/4, 3, 12) px, minus the mask.</summary>
public static class MaskAttributes
{
    public const double TinyBelow = 0.001, SmallBelow = 0.01, MediumBelow = 0.05;
    public const double LineElongation = 4, LineSlenderness = 12, RoundElongation = 2, RoundCompactness = 0.85;
    public const double ToneThreshold = 10, ColourThreshold = 18, RougherRatio = 1.6, SmootherRatio = 0.6;

    public static SizeClass ClassifySize(double areaFraction) =>
        areaFraction < TinyBelow ? SizeClass.Tiny : areaFraction < SmallBelow ? SizeClass.Small : areaFraction < MediumBelow ? SizeClass.Medium : SizeClass.Large;

    public static string GridName(int row, int column) => (row, column) switch
    {
        (1, 1) => "centre",
        (1, _) => column == 0 ? "left" : "right",
        (_, 1) => row == 0 ? "top" : "bottom",
        _ => (row == 0 ? "top " : "bottom ") + (column == 0 ? "left" : "right"),
    };

    public static string ObjectGridName(int row, int column) => (row, column) switch
    {
        (1, 1) => "central",
        (1, _) => column == 0 ? "left-hand" : "right-hand",
        (_, 1) => row == 0 ? "upper" : "lower",
        _ => (row == 0 ? "upper " : "lower ") + (column == 0 ? "left-hand" : "right-hand"),
    };

    private static int Third(double f) => f < 1.0 / 3 ? 0 : f < 2.0 / 3 ? 1 : 2;

    /// <summary>The image-free attributes of a non-empty <paramref name="mask"/>: area, size class, regions, grid
    /// location and shape (<see cref="Compute"/> uses this; so does inference, to make answers agree with the predicted mask).</summary>
    public static MaskGeometry Geometry(BinaryMask mask)
    {
        int w = mask.Width, h = mask.Height, n = w * h;
        var m = mask.Data;
        int area = MaskOps.Count(m);
        if (area == 0) throw new ArgumentException("the mask is empty: a normal image has no anomaly attributes");
        double sx = 0, sy = 0;
        for (int p = 0; p < n; p++) if (m[p]) { sx += p % w; sy += p / w; }
        double cx = (sx / area + 0.5) / w, cy = (sy / area + 0.5) / h;

        var (labels, regions) = MaskOps.Label8(m, w, h);
        var sizes = new int[regions + 1];
        foreach (var l in labels) sizes[l]++;
        int largest = 1;
        for (int l = 2; l <= regions; l++) if (sizes[l] > sizes[largest]) largest = l;
        var (elongation, compactness, slenderness, angle) = RegionShape(labels, largest, w, h, sizes[largest]);
        ShapeClass shape = regions >= 3 ? ShapeClass.Scattered
            : elongation >= LineElongation || slenderness >= LineSlenderness ? ShapeClass.LineLike
            : elongation < RoundElongation && compactness >= RoundCompactness ? ShapeClass.Round
            : ShapeClass.Irregular;
        string? orientation = shape != ShapeClass.LineLike ? null
            : Math.Abs(Math.Sin(angle)) < Math.Sin(Math.PI / 8) ? "horizontal"
            : Math.Abs(Math.Cos(angle)) < Math.Sin(Math.PI / 8) ? "vertical" : "diagonal";
        return new MaskGeometry(area, (double)area / n, ClassifySize((double)area / n), regions, cx, cy, Third(cy), Third(cx),
            elongation, compactness, slenderness, shape, orientation);
    }

    /// <summary>Attributes of a non-empty <paramref name="mask"/> over <paramref name="image"/> (same size).</summary>
    public static AnomalyAttributes Compute(RgbImage image, BinaryMask mask, string? defect = null, Foreground.Result? foreground = null)
    {
        if (image.Width != mask.Width || image.Height != mask.Height)
            throw new ArgumentException($"mask {mask.Width}x{mask.Height} does not match image {image.Width}x{image.Height}");
        var g = Geometry(mask);
        int w = mask.Width, h = mask.Height, n = w * h, area = g.Pixels;
        var m = mask.Data;
        double cx = g.CentroidX, cy = g.CentroidY;

        int? objRow = null, objCol = null;
        var fg = foreground ?? Foreground.Estimate(image);
        if (fg.IsObject)
        {
            int x0 = w, y0 = h, x1 = -1, y1 = -1;
            for (int p = 0; p < n; p++)
            {
                if (!fg.Mask[p]) continue;
                int x = p % w, y = p / w;
                x0 = Math.Min(x0, x); x1 = Math.Max(x1, x); y0 = Math.Min(y0, y); y1 = Math.Max(y1, y);
            }
            double ox = (cx * w - x0) / Math.Max(1, x1 + 1 - x0), oy = (cy * h - y0) / Math.Max(1, y1 + 1 - y0);
            objRow = Third(Math.Clamp(oy, 0, 0.999));
            objCol = Third(Math.Clamp(ox, 0, 0.999));
        }

        int radius = Math.Clamp((int)(Math.Sqrt(area) / 4), 3, 12);
        var ring = MaskOps.Dilate(m, w, h, radius);
        var inside = new Stats();
        var around = new Stats();
        var px = image.Pixels;
        for (int p = 0; p < n; p++)
        {
            if (m[p]) inside.Add(px, p);
            else if (ring[p]) around.Add(px, p);
        }
        double lumaDelta = around.Count == 0 ? 0 : inside.MeanLuma - around.MeanLuma;
        var tone = around.Count == 0 || Math.Abs(lumaDelta) < ToneThreshold ? Tone.Similar : lumaDelta < 0 ? Tone.Darker : Tone.Brighter;
        double colourShift = around.Count == 0 ? 0 : Math.Sqrt(Sq(inside.MeanRg - around.MeanRg) + Sq(inside.MeanYb - around.MeanYb));
        // Achromatic names (black, grey, white) add nothing to the tone, so only chromatic shifts are named.
        string? colourName = colourShift >= ColourThreshold ? ColourName(inside.MeanR, inside.MeanG, inside.MeanB) : null;
        if (colourName is "black" or "grey" or "white") colourName = null;
        double textureRatio = around.Count == 0 ? 1 : (inside.StdLuma + 1) / (around.StdLuma + 1);
        return new AnomalyAttributes(
            g.AreaFraction, g.Size, g.RegionCount, cx, cy, g.GridRow, g.GridColumn, objRow, objCol,
            g.Elongation, g.Compactness, g.Slenderness, g.Shape, g.Orientation,
            lumaDelta, tone, colourShift, colourName, textureRatio, HumaniseDefect(defect));
    }

    private static double Sq(double v) => v * v;

    /// <summary>Second-moment elongation, moment compactness, edge slenderness and major-axis angle of one labelled region.</summary>
    private static (double Elongation, double Compactness, double Slenderness, double Angle) RegionShape(int[] labels, int label, int w, int h, int area)
    {
        double sx = 0, sy = 0;
        long perimeter = 0;
        for (int p = 0; p < labels.Length; p++)
        {
            if (labels[p] != label) continue;
            int x = p % w, y = p / w;
            sx += x;
            sy += y;
            if (x == 0 || labels[p - 1] != label) perimeter++;
            if (x == w - 1 || labels[p + 1] != label) perimeter++;
            if (y == 0 || labels[p - w] != label) perimeter++;
            if (y == h - 1 || labels[p + w] != label) perimeter++;
        }
        double mx = sx / area, my = sy / area, cxx = 0, cyy = 0, cxy = 0;
        for (int p = 0; p < labels.Length; p++)
        {
            if (labels[p] != label) continue;
            double dx = p % w - mx, dy = p / w - my;
            cxx += dx * dx;
            cyy += dy * dy;
            cxy += dx * dy;
        }
        // + 1/12: the variance of a unit pixel, so single pixels and one-pixel lines have finite moments.
        cxx = cxx / area + 1.0 / 12;
        cyy = cyy / area + 1.0 / 12;
        cxy /= area;
        double tr = cxx + cyy, det = cxx * cyy - cxy * cxy, disc = Math.Sqrt(Math.Max(0, tr * tr / 4 - det));
        double l1 = tr / 2 + disc, l2 = Math.Max(1e-9, tr / 2 - disc);
        double angle = 0.5 * Math.Atan2(2 * cxy, cxx - cyy);
        double compactness = area / (4 * Math.PI * Math.Sqrt(l1 * l2));
        double slenderness = (perimeter / 2.0) * (perimeter / 2.0) / area;
        return (Math.Sqrt(l1 / l2), compactness, slenderness, angle);
    }

    /// <summary>A plain colour name for a mean RGB.</summary>
    public static string ColourName(double r, double g, double b)
    {
        double max = Math.Max(r, Math.Max(g, b)), min = Math.Min(r, Math.Min(g, b)), d = max - min;
        double v = max / 255, s = max <= 0 ? 0 : d / max;
        if (s < 0.2) return v < 0.25 ? "black" : v > 0.8 ? "white" : "grey";
        double hue = d < 1e-9 ? 0 : max == r ? 60 * (((g - b) / d % 6 + 6) % 6) : max == g ? 60 * ((b - r) / d + 2) : 60 * ((r - g) / d + 4);
        if (hue < 15 || hue >= 345) return v < 0.5 ? "dark red" : "red";
        if (hue < 40) return v < 0.55 ? "brown" : "orange";
        if (hue < 70) return v < 0.45 ? "olive" : "yellow";
        if (hue < 160) return "green";
        if (hue < 200) return "cyan";
        if (hue < 260) return "blue";
        if (hue < 300) return "purple";
        return "pink";
    }

    /// <summary>"MT_Blowhole" → "blowhole", "colour_spot" → "colour spot", "colour" → "colour defect"; null for none, "good" and "normal".</summary>
    public static string? HumaniseDefect(string? defect)
    {
        if (string.IsNullOrWhiteSpace(defect)) return null;
        var d = defect.Trim();
        if (d.Equals("good", StringComparison.OrdinalIgnoreCase) || d.Equals("normal", StringComparison.OrdinalIgnoreCase)) return null;
        int us = d.IndexOf('_');
        if (us is > 0 and <= 3 && d[..us].All(char.IsUpper) && us < d.Length - 1) d = d[(us + 1)..];
        d = d.Replace('_', ' ').Replace('-', ' ').ToLowerInvariant();
        // Dataset labels that name a property or a grade rather than a thing read badly in "a …": make them nouns.
        return d switch
        {
            "colour" or "color" => "colour defect",
            "combined" => "combined defect",
            "uneven" => "uneven surface",
            "benign" or "malignant" => d + " lesion",
            _ => d,
        };
    }

    private sealed class Stats
    {
        public int Count;
        private double _r, _g, _b, _l, _ll;

        public void Add(byte[] px, int p)
        {
            double r = px[p * 3], g = px[p * 3 + 1], b = px[p * 3 + 2], l = 0.299 * r + 0.587 * g + 0.114 * b;
            Count++;
            _r += r; _g += g; _b += b; _l += l; _ll += l * l;
        }

        public double MeanR => _r / Math.Max(1, Count);
        public double MeanG => _g / Math.Max(1, Count);
        public double MeanB => _b / Math.Max(1, Count);
        public double MeanLuma => _l / Math.Max(1, Count);
        public double StdLuma => Math.Sqrt(Math.Max(0, _ll / Math.Max(1, Count) - MeanLuma * MeanLuma));
        /// <summary>Opponent chroma: red-green and yellow-blue.</summary>
        public double MeanRg => MeanR - MeanG;
        public double MeanYb => (MeanR + MeanG) / 2 - MeanB;
    }
}
