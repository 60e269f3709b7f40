using AgVas.Data;

namespace AgVas.Synthesis;

/// <summary>Scratch buffers and the compositing rule shared by all defect painters. A painter marks the defect
/// <see cref="Shape"/> (this becomes the ground-truth mask, exactly), its opacity <see cref="Alpha"/> inside the
/// shape and a <see cref="Target"/> colour over the shape's box grown by <see cref="BlendMargin"/>.
/// <see cref="Composite"/> then writes <c>out = src + a·(target − src)</c> with <c>a = Alpha</c> inside the shape,
/// <c>0.5·max(Alpha)</c> over the 3×3 neighbourhood on the first ring outside it and <c>0.2·max(Alpha)</c> over the
/// 5×5 on the second ring, 0 elsewhere: a soft edge that never reaches further than <see cref="BlendMargin"/> pixels.</summary>
public sealed class DefectCanvas
{
    /// <summary>Pixels outside the mask may change only within this Chebyshev distance of it (the soft edge).</summary>
    public const int BlendMargin = 2;

    public int Width { get; }
    public int Height { get; }
    public bool[] Shape { get; }
    public float[] Alpha { get; }
    /// <summary>[H, W, 3] target colours, valid inside the painted box grown by <see cref="BlendMargin"/>.</summary>
    public float[] Target { get; }
    /// <summary>Per-pixel scratch for painters (e.g. the normalised radius of a blob).</summary>
    public float[] Aux { get; }
    private readonly float[] _edge;
    private readonly float[] _max1;
    private readonly float[] _max2;
    private readonly float[] _tmp;

    /// <summary>Box of the shape: [X0, X1) × [Y0, Y1); empty when X1 ≤ X0.</summary>
    public (int X0, int Y0, int X1, int Y1) Box { get; private set; }

    public DefectCanvas(int width, int height)
    {
        Width = width;
        Height = height;
        int n = width * height;
        Shape = new bool[n];
        Alpha = new float[n];
        Target = new float[n * 3];
        Aux = new float[n];
        _edge = new float[n];
        _max1 = new float[n];
        _max2 = new float[n];
        _tmp = new float[n];
    }

    public void Clear()
    {
        Array.Clear(Shape);
        Array.Clear(Alpha);
        Box = (0, 0, 0, 0);
    }

    /// <summary>Marks pixel (x, y) as defect with opacity <paramref name="alpha"/> (keeps the larger of repeated marks).</summary>
    public void Mark(int x, int y, float alpha)
    {
        int p = y * Width + x;
        Shape[p] = true;
        if (alpha > Alpha[p]) Alpha[p] = alpha;
    }

    /// <summary>Recomputes <see cref="Box"/> from <see cref="Shape"/> and returns the shape's pixel count.</summary>
    public int UpdateBox()
    {
        int x0 = Width, y0 = Height, x1 = -1, y1 = -1, count = 0;
        for (int y = 0; y < Height; y++)
        {
            int row = y * Width;
            for (int x = 0; x < Width; x++)
            {
                if (!Shape[row + x]) continue;
                count++;
                if (x < x0) x0 = x;
                if (x > x1) x1 = x;
                if (y < y0) y0 = y;
                if (y > y1) y1 = y;
            }
        }
        Box = count == 0 ? (0, 0, 0, 0) : (x0, y0, x1 + 1, y1 + 1);
        return count;
    }

    /// <summary>The box grown by the margin and clipped to the image: where Target must be valid.</summary>
    public (int X0, int Y0, int X1, int Y1) PaintBox => (
        Math.Max(0, Box.X0 - BlendMargin), Math.Max(0, Box.Y0 - BlendMargin),
        Math.Min(Width, Box.X1 + BlendMargin), Math.Min(Height, Box.Y1 + BlendMargin));

    /// <summary>Removes shape pixels outside <paramref name="allowed"/> (null: keep all).</summary>
    public void Restrict(bool[]? allowed)
    {
        if (allowed is null) return;
        for (int p = 0; p < Shape.Length; p++)
            if (Shape[p] && !allowed[p]) { Shape[p] = false; Alpha[p] = 0; }
    }

    public void SetTarget(int p, float r, float g, float b)
    {
        Target[p * 3] = r;
        Target[p * 3 + 1] = g;
        Target[p * 3 + 2] = b;
    }

    /// <summary>Writes the defect into <paramref name="output"/> (a copy of <paramref name="source"/>) by the rule in the class summary.</summary>
    public void Composite(RgbImage source, RgbImage output)
    {
        var (bx0, by0, bx1, by1) = PaintBox;
        if (bx1 <= bx0) return;
        for (int y = by0; y < by1; y++)
            for (int x = bx0; x < bx1; x++)
            {
                int p = y * Width + x;
                _edge[p] = Shape[p] ? Alpha[p] : 0f;
            }
        MaxFilter(_edge, _max1, 1, bx0, by0, bx1, by1);
        MaxFilter(_edge, _max2, 2, bx0, by0, bx1, by1);
        var src = source.Pixels;
        var dst = output.Pixels;
        for (int y = by0; y < by1; y++)
            for (int x = bx0; x < bx1; x++)
            {
                int p = y * Width + x;
                float a = Shape[p] ? Alpha[p] : _max1[p] > 0 ? 0.5f * _max1[p] : 0.2f * _max2[p];
                if (a <= 0) continue;
                int i = p * 3;
                dst[i] = ImageOps.ToByte(src[i] + a * (Target[i] - src[i]));
                dst[i + 1] = ImageOps.ToByte(src[i + 1] + a * (Target[i + 1] - src[i + 1]));
                dst[i + 2] = ImageOps.ToByte(src[i + 2] + a * (Target[i + 2] - src[i + 2]));
            }
    }

    /// <summary>Square max filter of radius r over the box (values outside the box are 0).</summary>
    private void MaxFilter(float[] input, float[] output, int r, int x0, int y0, int x1, int y1)
    {
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
            {
                float m = 0;
                for (int k = Math.Max(x0, x - r); k <= Math.Min(x1 - 1, x + r); k++) m = Math.Max(m, input[y * Width + k]);
                _tmp[y * Width + x] = m;
            }
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
            {
                float m = 0;
                for (int k = Math.Max(y0, y - r); k <= Math.Min(y1 - 1, y + r); k++) m = Math.Max(m, _tmp[k * Width + x]);
                output[y * Width + x] = m;
            }
    }

    /// <summary>The ground-truth mask (a copy of <see cref="Shape"/>).</summary>
    public BinaryMask ToMask() => new(Width, Height, (bool[])Shape.Clone());
}
