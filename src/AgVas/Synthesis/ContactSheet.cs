using AgVas.Data;

namespace AgVas.Synthesis;

/// <summary>One cell of a contact sheet: an image, its mask (null or empty for a normal image) and a label.</summary>
public sealed record SheetItem(RgbImage Image, BinaryMask? Mask, string Label);

/// <summary>A PNG grid for looking at generated data: each cell shows the image as is and, beside it, the same image
/// with the mask contour in red, above a label strip (the defect-type name).</summary>
public static class ContactSheet
{
    private const int Gap = 4, LabelHeight = 12;
    private static readonly (byte, byte, byte) Red = (255, 0, 0);

    public static RgbImage Render(IReadOnlyList<SheetItem> items, int columns = 4, int tile = 128)
    {
        if (items.Count == 0) throw new ArgumentException("a contact sheet needs at least one item", nameof(items));
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(tile, 16);
        columns = Math.Min(columns, items.Count);
        int rows = (items.Count + columns - 1) / columns;
        int cellW = 2 * tile + Gap, cellH = tile + LabelHeight;
        int width = columns * cellW + (columns + 1) * Gap, height = rows * cellH + (rows + 1) * Gap;
        var sheet = new RgbImage(width, height);
        Array.Fill(sheet.Pixels, (byte)40);
        for (int k = 0; k < items.Count; k++)
        {
            int x0 = Gap + (k % columns) * (cellW + Gap), y0 = Gap + (k / columns) * (cellH + Gap);
            var item = items[k];
            var thumb = ImageOps.Resize(item.Image, 0, 0, item.Image.Width, item.Image.Height, tile, tile);
            Blit(thumb, sheet, x0, y0);
            if (item.Mask is { } mask) DrawContour(thumb, mask);
            Blit(thumb, sheet, x0 + tile + Gap, y0);
            int maxChars = cellW / BitmapFont.Advance;
            var label = item.Label.Length > maxChars ? item.Label[..maxChars] : item.Label;
            BitmapFont.Draw(sheet.Pixels, width, height, x0 + 1, y0 + tile + 3, label, (235, 235, 235));
        }
        return sheet;
    }

    public static void Save(IReadOnlyList<SheetItem> items, string path, int columns = 4, int tile = 128) =>
        ImageIO.SaveRgbPng(Render(items, columns, tile), path);

    /// <summary>Marks in red the thumbnail pixels on the mask's boundary (nearest-neighbour scaled mask pixels with a
    /// 4-neighbour outside the mask).</summary>
    private static void DrawContour(RgbImage thumb, BinaryMask mask)
    {
        int w = thumb.Width, h = thumb.Height;
        var m = new bool[w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                m[y * w + x] = mask.Data[(y * mask.Height / h) * mask.Width + x * mask.Width / w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int p = y * w + x;
                if (!m[p]) continue;
                bool edge = x == 0 || y == 0 || x == w - 1 || y == h - 1 || !m[p - 1] || !m[p + 1] || !m[p - w] || !m[p + w];
                if (!edge) continue;
                thumb.Pixels[p * 3] = Red.Item1;
                thumb.Pixels[p * 3 + 1] = Red.Item2;
                thumb.Pixels[p * 3 + 2] = Red.Item3;
            }
    }

    private static void Blit(RgbImage src, RgbImage dst, int x0, int y0)
    {
        for (int y = 0; y < src.Height; y++)
            Array.Copy(src.Pixels, y * src.Width * 3, dst.Pixels, ((y0 + y) * dst.Width + x0) * 3, src.Width * 3);
    }
}
