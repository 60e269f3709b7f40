using AgVas.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AgVas.Tests.Training;

public class AdamWTests
{
    /// <summary>Our AdamW takes the same steps as torch.optim.AdamW (libtorch's implementation) on the same gradients.</summary>
    [Fact]
    public void MatchesTorchAdamW()
    {
        manual_seed(3);
        using var a = new Parameter(randn(5, 4));
        using var b = new Parameter(a.detach().clone());
        using var ours = new AgVas.Training.AdamW([("w", a)], 0.9, 0.95, 1e-8, 0.1);
        var theirs = optim.AdamW([b], lr: 0.01, beta1: 0.9, beta2: 0.95, eps: 1e-8, weight_decay: 0.1);
        for (int step = 0; step < 6; step++)
        {
            using var target = randn(5, 4);
            foreach (var p in new[] { a, b })
            {
                p.grad?.zero_();
                using var loss = (p * p * target).sum();
                loss.backward();
            }
            ours.Update(0.01);
            theirs.step();
        }
        Assert.Equal(6, ours.Step);
        Assert.True(allclose(a, b, rtol: 1e-6, atol: 1e-7), $"max diff {(a - b).abs().max().item<float>()}");
    }
}
