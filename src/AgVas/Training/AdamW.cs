using AgVas.Checkpoints;
using AgVas.Modeling;
using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace AgVas.Training;

/// <summary>
/// AdamW (decoupled weight decay), the same arithmetic as <c>torch.optim.AdamW</c> (single-tensor path): decay
/// p ← p·(1 − lr·wd), moments m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², then p ← p − (lr/(1−β1^t))·m / (√v/√(1−β2^t) + ε).
/// Written out (rather than TorchSharp's optimiser) so that its whole state — step and both moments, keyed by
/// parameter name — is plain tensors that a checkpoint saves and a resume restores exactly.
/// </summary>
public sealed class AdamW : IDisposable
{
    private readonly IReadOnlyList<(string Name, Parameter Parameter)> parameters;
    private readonly Tensor[] expAvg;
    private readonly Tensor[] expAvgSq;

    public AdamW(IReadOnlyList<(string Name, Parameter Parameter)> parameters, double beta1, double beta2, double eps, double weightDecay)
    {
        if (parameters.Count == 0) throw new ArgumentException("no trainable parameters", nameof(parameters));
        var duplicate = parameters.GroupBy(p => p.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"parameter name '{duplicate.Key}' appears twice", nameof(parameters));
        this.parameters = parameters;
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        WeightDecay = weightDecay;
        expAvg = parameters.Select(p => zeros_like(p.Parameter).DetachFromDisposeScope()).ToArray();
        expAvgSq = parameters.Select(p => zeros_like(p.Parameter).DetachFromDisposeScope()).ToArray();
    }

    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public double WeightDecay { get; }
    /// <summary>Optimiser steps taken (t in the bias corrections).</summary>
    public long Step { get; private set; }

    public IEnumerable<Parameter> Parameters => parameters.Select(p => p.Parameter);

    public void ZeroGrad()
    {
        using var scope = NewDisposeScope(); // each .grad access makes a handle
        foreach (var (_, p) in parameters) p.grad?.zero_();
    }

    /// <summary>One update with learning rate <paramref name="lr"/>; parameters without a gradient are left alone.</summary>
    public void Update(double lr)
    {
        Step++;
        double bc1 = 1 - Math.Pow(Beta1, Step), bc2Sqrt = Math.Sqrt(1 - Math.Pow(Beta2, Step));
        using var guard = no_grad();
        using var scope = NewDisposeScope();
        // The scalars are made once and kept alive (using) until every native call that reads them has returned: a
        // temporary Scalar from an implicit double conversion may be finalised by the GC while libtorch still reads it,
        // which crashed a training run at step 390 ("Exception raised from toFloat", in add_(Eps)).
        using Scalar decay = 1 - lr * WeightDecay, beta2 = Beta2, oneMinusBeta2 = 1 - Beta2, eps = Eps, stepSize = -lr / bc1, bc2 = bc2Sqrt;
        using var oneMinusBeta1 = tensor((float)(1 - Beta1));                                  // [] lerp_'s weight
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i].Parameter;
            var g = p.grad;
            if (g is null) continue;
            if (WeightDecay != 0) p.mul_(decay);
            expAvg[i].lerp_(g, oneMinusBeta1);
            expAvgSq[i].mul_(beta2).addcmul_(g, g, oneMinusBeta2);
            var denom = expAvgSq[i].sqrt().div_(bc2).add_(eps, Scalars.One);
            p.addcdiv_(expAvg[i], denom, stepSize);
        }
    }

    /// <summary>The state as named tensors: <c>exp_avg.&lt;name&gt;</c>, <c>exp_avg_sq.&lt;name&gt;</c> (views, not copies).</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> StateTensors()
    {
        for (int i = 0; i < parameters.Count; i++)
        {
            yield return new($"exp_avg.{parameters[i].Name}", expAvg[i]);
            yield return new($"exp_avg_sq.{parameters[i].Name}", expAvgSq[i]);
        }
    }

    /// <summary>Restores the state saved from an optimiser over the same parameters; anything missing or mis-shaped is an error naming the file.</summary>
    public void LoadState(TensorSource source, long step)
    {
        for (int i = 0; i < parameters.Count; i++)
        {
            source.CopyInto($"exp_avg.{parameters[i].Name}", expAvg[i], "optimiser state");
            source.CopyInto($"exp_avg_sq.{parameters[i].Name}", expAvgSq[i], "optimiser state");
        }
        Step = step;
    }

    public void Dispose()
    {
        foreach (var t in expAvg) t.Dispose();
        foreach (var t in expAvgSq) t.Dispose();
    }
}
