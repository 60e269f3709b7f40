using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace AgVas.Training;

/// <summary>
/// An exponential moving average of the trained weights (beyond the paper; <c>optim.ema_decay</c>): after each
/// optimiser step, ema ← ema + (1 − d)·(p − ema) with d = min(decay, (1 + t)/(10 + t)), the warm-up of
/// Polyak-style averaging that lets the average follow the weights quickly at first. A small model trained from
/// scratch swings from checkpoint to checkpoint on unseen images; the average is a smoother estimate. Checkpoints save
/// it beside the weights (<see cref="TrainingCheckpoint.EmaFile"/>) and the run's final model is the average.
/// </summary>
public sealed class ExponentialMovingAverage : IDisposable
{
    private readonly IReadOnlyList<(string Name, Parameter Parameter)> parameters;
    private readonly Tensor[] shadow;

    public ExponentialMovingAverage(IReadOnlyList<(string Name, Parameter Parameter)> parameters, double decay)
    {
        if (!(decay is > 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(decay), $"decay must be in (0, 1), got {decay}");
        this.parameters = parameters;
        Decay = decay;
        using var guard = no_grad();
        shadow = parameters.Select(p => p.Parameter.detach().clone().DetachFromDisposeScope()).ToArray();
    }

    public double Decay { get; }

    /// <summary>The decay used at update number <paramref name="updates"/> (1-based).</summary>
    public double DecayAt(long updates) => Math.Min(Decay, (1.0 + updates) / (10.0 + updates));

    /// <summary>Moves the average towards the current weights; <paramref name="updates"/> is the optimiser step just taken (1-based).</summary>
    public void Update(long updates)
    {
        using var guard = no_grad();
        using var scope = NewDisposeScope();
        using var weight = tensor((float)(1 - DecayAt(updates)));                               // [] lerp_'s weight
        for (int i = 0; i < parameters.Count; i++) shadow[i].lerp_(parameters[i].Parameter, weight);
    }

    /// <summary>The average as named tensors, keyed like the weights (views, not copies: a checkpoint writes them and a
    /// resume copies into them).</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> StateTensors() =>
        parameters.Select((p, i) => new KeyValuePair<string, Tensor>(p.Name, shadow[i]));

    /// <summary>Copies the average into the model's weights (at the end of a run, before the final model is saved).</summary>
    public void CopyToModel()
    {
        using var guard = no_grad();
        for (int i = 0; i < parameters.Count; i++) parameters[i].Parameter.copy_(shadow[i]);
    }

    public void Dispose()
    {
        foreach (var t in shadow) t.Dispose();
    }
}
