using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AgVas.Server;

/// <summary>Healthy while the workers run; reports the pool's load.</summary>
internal sealed class InferenceHealthCheck(InferencePool pool) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(pool.IsRunning
            ? HealthCheckResult.Healthy($"{pool.Busy} running, {pool.Admitted} admitted of {pool.Capacity}")
            : HealthCheckResult.Unhealthy("the inference workers are not running"));
}
