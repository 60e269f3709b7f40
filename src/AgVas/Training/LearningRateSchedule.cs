namespace AgVas.Training;

/// <summary>
/// LISA's schedule (DeepSpeed WarmupDecayLR): the learning rate rises linearly from 0 to <c>peak</c> over
/// <c>warmup</c> steps, then falls linearly to 0 at <c>total</c> steps. Steps are 0-based: step s trains with
/// <see cref="At"/>(s).
/// </summary>
public sealed record LearningRateSchedule(double Peak, int Warmup, int Total)
{
    public double At(int step)
    {
        if (step < Warmup) return Peak * (step + 1) / Warmup;
        if (Total <= Warmup) return Peak;
        return Peak * Math.Max(0.0, (double)(Total - step) / (Total - Warmup));
    }
}
