using static TorchSharp.torch;

namespace AgVas.Tests;

/// <summary>The build-time libstdc++ fix: TorchSharp's native library must load on this machine.</summary>
public class TorchSharpLoadsTests
{
    [Fact]
    public void MatmulRunsOnCpu()
    {
        using var scope = NewDisposeScope();
        var a = arange(6, dtype: ScalarType.Float32).reshape(2, 3);   // [2, 3]
        var b = ones(3, 2);                                            // [3, 2]
        var c = matmul(a, b);                                          // [2, 2]
        Assert.Equal(new float[] { 3, 3, 12, 12 }, c.data<float>().ToArray());
    }
}
