namespace AgVas.Tests;

public class HeapTuningTests
{
    [SkippableFact]
    public void RaisesGlibcThresholdsOnLinuxAndIsIdempotent()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "glibc malloc tuning applies on Linux only");
        Skip.If(Environment.GetEnvironmentVariable("AGVAS_DEFAULT_MALLOC") == "1", "AGVAS_DEFAULT_MALLOC=1 turns the tuning off");
        HeapTuning.Apply();
        HeapTuning.Apply();
        Assert.True(HeapTuning.Applied, "mallopt refused M_MMAP_THRESHOLD/M_TRIM_THRESHOLD");
    }
}
