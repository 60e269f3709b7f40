using AgVas.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Tests.Modeling;

/// <summary><see cref="OneDnnSafe.Conv2d"/>: AGMD's 16 → 8 channel conv, whose plain oneDNN backward turned the input gradient
/// NaN in 5–8 of 40 passes on an AVX-512 CPU (session 17), gives a conv's values and gradients, always finite.</summary>
public sealed class OneDnnSafeTests
{
    [Fact]
    public void TheConvGivesThePlainConvsValuesAndGradients()
    {
        manual_seed(3);
        var conv = nn.Conv2d(16, 8, 3, padding: 1);
        using var x = randn(1, 16, 40, 40).requires_grad_(true);
        using var y = OneDnnSafe.Conv2d(conv, x);                               // [1, 8, 40, 40]
        using var g = randn_like(y);
        y.backward([g]);

        // Reference: the same conv in float64, which libtorch computes without oneDNN.
        using var x64 = x.detach().to(float64).requires_grad_(true);
        using var w64 = conv.weight!.detach().to(float64).requires_grad_(true);
        using var b64 = conv.bias!.detach().to(float64).requires_grad_(true);
        using var y64 = nn.functional.conv2d(x64, w64, b64, padding: [1, 1]);
        y64.backward([g.to(float64)]);

        Assert.Equal([1L, 8, 40, 40], y.shape);
        Assert.True(y.to(float64).allclose(y64, rtol: 1e-4, atol: 1e-5));
        Assert.True(x.grad!.to(float64).allclose(x64.grad!, rtol: 1e-4, atol: 1e-5));
        Assert.True(conv.weight!.grad!.to(float64).allclose(w64.grad!, rtol: 1e-4, atol: 1e-4));
        Assert.True(conv.bias!.grad!.to(float64).allclose(b64.grad!, rtol: 1e-4, atol: 1e-4));
        using (no_grad())
        using (var plain = conv.forward(x))
            Assert.True(plain.allclose(y, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void ConvsItWouldComputeWronglyAreRefused()
    {
        using var x = randn(1, 16, 8, 8).requires_grad_(true);
        Assert.Contains("groups", Assert.Throws<ArgumentException>(() => OneDnnSafe.Conv2d(nn.Conv2d(16, 8, 3, padding: 1, groups: 2), x)).Message);
        Assert.Contains("padding mode", Assert.Throws<ArgumentException>(() => OneDnnSafe.Conv2d(nn.Conv2d(16, 8, 3, padding: 1, padding_mode: PaddingModes.Reflect), x)).Message);
    }

    [Fact]
    public void TheInputGradientStaysFiniteWhenFreedMemoryHoldsNaNs()
    {
        manual_seed(1);
        var conv = nn.Conv2d(16, 8, 3, padding: 1);
        int bad = 0;
        for (int i = 0; i < 40; i++)
        {
            using var x = randn(1, 16, 256, 256).requires_grad_(true);
            using var y = OneDnnSafe.Conv2d(conv, x);                         // [1, 8, 256, 256]
            using var g = randn_like(y);
            // Freed blocks of the size oneDNN's padded gradient needs, full of NaN: what stale memory may hold.
            foreach (var junk in Enumerable.Range(0, 8).Select(_ => full([1, 16, 256, 256], float.NaN)).ToList()) junk.Dispose();
            y.backward([g]);
            if (!x.grad!.isfinite().all().item<bool>()) bad++;
        }
        Assert.Equal(0, bad);
    }
}
