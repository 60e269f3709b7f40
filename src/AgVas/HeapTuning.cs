using System.Runtime.InteropServices;

namespace AgVas;

/// <summary>
/// Keeps libtorch's freed tensor buffers in the process heap. glibc hands every freed block above its mmap threshold
/// back to the kernel (and trims the heap top above its trim threshold), so the next step's activations of the same
/// size are page-faulted in afresh: measured on 2 cores, training the tiny preset at batch 8 spent a third of its CPU
/// time in the kernel (2.1 M page faults in 14 steps) and ran at 1.70 s per step; with the thresholds raised, 0.85 s.
/// <see cref="Apply"/> is idempotent, process-wide, and a no-op off glibc; set AGVAS_DEFAULT_MALLOC=1 to skip it. The
/// model class applies it before any model is built (training and inference, CLI or library); benchmarks call it too.
/// </summary>
public static partial class HeapTuning
{
    private const int M_TRIM_THRESHOLD = -1;
    private const int M_MMAP_THRESHOLD = -3;
    /// <summary>Blocks up to this size come from the heap. glibc's own dynamic threshold stops at 32 MiB, below one
    /// batch's larger activations (8 × 64 × 256² floats = 128 MiB), which is why 32 MiB only got 1.40 s per step.</summary>
    public const int MmapThreshold = 1 << 30;

    private static int s_applied;

    /// <summary>True when the thresholds were raised in this process.</summary>
    public static bool Applied { get; private set; }

    public static void Apply()
    {
        if (Interlocked.Exchange(ref s_applied, 1) == 1) return;
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("AGVAS_DEFAULT_MALLOC") == "1") return;
        try
        {
            Applied = mallopt(M_MMAP_THRESHOLD, MmapThreshold) == 1 & mallopt(M_TRIM_THRESHOLD, int.MaxValue) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc (e.g. musl): nothing to tune.
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int mallopt(int param, int value);
}
