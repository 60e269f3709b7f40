using System.Buffers;

namespace AgVas.Evaluation;

/// <summary>Connected-component labelling of binary masks (the ground-truth regions of AUPRO).</summary>
public static class ConnectedComponents
{
    /// <summary>
    /// Labels the 8-connected components of <paramref name="mask"/> ([H, W], row-major): <paramref name="labels"/>[i] is
    /// 0 for background and 1..count for foreground, numbered in raster order of each component's first pixel (as
    /// <c>skimage.measure.label(mask, connectivity=2)</c>). Two raster passes with union-find. Returns the count.
    /// </summary>
    public static int Label8(ReadOnlySpan<bool> mask, int width, int height, Span<int> labels)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"size must be positive, got {width}x{height}");
        if (mask.Length != width * height || labels.Length != mask.Length)
            throw new ArgumentException($"expected {width * height} mask values and labels, got {mask.Length} and {labels.Length}");
        // A new provisional label starts only after a background pixel (or at x = 0): at most ceil(W/2) per row.
        int capacity = (width + 1) / 2 * height + 1;
        var parent = ArrayPool<int>.Shared.Rent(capacity);
        try
        {
            int next = 1;
            for (int y = 0; y < height; y++)
            {
                int row = y * width;
                for (int x = 0; x < width; x++)
                {
                    int i = row + x;
                    if (!mask[i]) { labels[i] = 0; continue; }
                    int label = 0;
                    if (x > 0 && labels[i - 1] != 0) label = labels[i - 1];
                    if (y > 0)
                    {
                        int up = i - width;
                        if (x > 0 && labels[up - 1] != 0) label = Merge(parent, label, labels[up - 1]);
                        if (labels[up] != 0) label = Merge(parent, label, labels[up]);
                        if (x + 1 < width && labels[up + 1] != 0) label = Merge(parent, label, labels[up + 1]);
                    }
                    if (label == 0)
                    {
                        label = next++;
                        parent[label] = label;
                    }
                    labels[i] = label;
                }
            }
            // Final ids in raster order of first appearance; parent[root] is reused to hold -id once assigned.
            int count = 0;
            for (int i = 0; i < labels.Length; i++)
            {
                if (labels[i] == 0) continue;
                int root = Find(parent, labels[i]);
                if (parent[root] > 0) parent[root] = -++count;
                labels[i] = -parent[root];
            }
            return count;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(parent);
        }
    }

    private static int Merge(int[] parent, int a, int b)
    {
        if (a == 0) return Find(parent, b);
        int ra = Find(parent, a), rb = Find(parent, b);
        if (ra == rb) return ra;
        if (ra < rb) { parent[rb] = ra; return ra; }
        parent[ra] = rb;
        return rb;
    }

    /// <summary>Root of a provisional label; a root is its own parent, or holds a negative final id in pass two.</summary>
    private static int Find(int[] parent, int a)
    {
        int root = a;
        while (parent[root] > 0 && parent[root] != root) root = parent[root];
        while (parent[a] > 0 && parent[a] != root)
        {
            int up = parent[a];
            parent[a] = root;
            a = up;
        }
        return root;
    }
}
