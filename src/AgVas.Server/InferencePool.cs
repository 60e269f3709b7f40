using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;

namespace AgVas.Server;

/// <summary>
/// The bounded worker pool every inference runs on: <see cref="ServeOptions.WorkerCount"/> workers read jobs from a
/// channel and share the one loaded model (<see cref="AgVas.Inference.AnomalySegmenter"/> serialises the forward
/// passes; decoding and PNG encoding run in parallel). A request is admitted (<see cref="TryAdmit"/>) before its body is
/// read, and at most workers + <see cref="ServeOptions.MaxQueue"/> are admitted at once, so memory stays bounded under any
/// burst: the rest get 429 without their upload being buffered.
/// Stopping (Ctrl-C) runs after the web server has drained the requests in flight; the workers finish what is queued.
/// </summary>
public sealed class InferencePool : IHostedService
{
    private readonly Channel<Job> channel;
    private readonly int workers;
    private readonly int capacity;
    private readonly List<Task> running = [];
    private int admitted;
    private int busy;
    private double meanSeconds = 1.0;   // moving average of a job's time, for Retry-After

    public InferencePool(ServeOptions options)
    {
        workers = options.WorkerCount;
        capacity = workers + options.MaxQueue;
        channel = Channel.CreateBounded<Job>(new BoundedChannelOptions(capacity) { SingleWriter = false, SingleReader = false });
    }

    /// <summary>Workers.</summary>
    public int Workers => workers;

    /// <summary>Jobs admitted at once at most (running + waiting).</summary>
    public int Capacity => capacity;

    /// <summary>Jobs admitted now (running, waiting, or having their upload read).</summary>
    public int Admitted => Volatile.Read(ref admitted);

    /// <summary>Jobs a worker is running now.</summary>
    public int Busy => Volatile.Read(ref busy);

    /// <summary>True while the workers run.</summary>
    public bool IsRunning { get; private set; }

    /// <summary>A slot for one job, or null when the pool is full (answer 429). Dispose the lease when the request ends.</summary>
    public Lease? TryAdmit()
    {
        if (Interlocked.Increment(ref admitted) > capacity)
        {
            Interlocked.Decrement(ref admitted);
            return null;
        }
        return new Lease(this);
    }

    /// <summary>Seconds a client refused now should wait: the queue ahead of it divided among the workers.</summary>
    public int RetryAfterSeconds()
    {
        double wait = Volatile.Read(ref meanSeconds) * Math.Max(1, Admitted) / workers;
        return (int)Math.Clamp(Math.Ceiling(wait), 1, 300);
    }

    /// <summary>Runs <paramref name="work"/> on a worker (the lease guarantees room in the queue) and takes over the lease:
    /// it is freed when the job ends, not when the request does. A job whose request was cancelled before a worker took it
    /// is dropped.</summary>
    public Task<T> RunAsync<T>(Lease lease, string kind, Func<T> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var job = new Job(kind, lease, Stopwatch.GetTimestamp(), cancellationToken, () =>
        {
            try { completion.TrySetResult(work()); }
            catch (Exception e) { completion.TrySetException(e); }
        }, () => completion.TrySetCanceled(cancellationToken));
        ServeMetrics.Queued.Inc();
        if (!channel.Writer.TryWrite(job))
        {
            ServeMetrics.Queued.Dec();
            lease.Dispose();
            throw new StoppedException();
        }
        return completion.Task;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        for (int i = 0; i < workers; i++)
            running.Add(Task.Factory.StartNew(Work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap());
        IsRunning = true;
        return Task.CompletedTask;
    }

    /// <summary>Closes the queue and waits for the workers to finish the jobs already in it.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        channel.Writer.TryComplete();
        await Task.WhenAll(running).WaitAsync(cancellationToken).ConfigureAwait(false);
        IsRunning = false;
    }

    private async Task Work()
    {
        await foreach (var job in channel.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            ServeMetrics.Queued.Dec();
            ServeMetrics.QueueWaitSeconds.Observe(Stopwatch.GetElapsedTime(job.Enqueued).TotalSeconds);
            if (job.Cancellation.IsCancellationRequested)
            {
                job.Lease.Dispose();
                job.Cancel();
                continue;
            }
            Interlocked.Increment(ref busy);
            ServeMetrics.Running.Inc();
            long start = Stopwatch.GetTimestamp();
            try { job.Run(); }
            finally
            {
                double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                ServeMetrics.InferenceSeconds.WithLabels(job.Kind).Observe(seconds);
                Volatile.Write(ref meanSeconds, 0.8 * Volatile.Read(ref meanSeconds) + 0.2 * seconds);
                ServeMetrics.Running.Dec();
                Interlocked.Decrement(ref busy);
                job.Lease.Dispose();
            }
        }
    }

    private sealed record Job(string Kind, Lease Lease, long Enqueued, CancellationToken Cancellation, Action Run, Action Cancel);

    /// <summary>The pool no longer takes jobs: the server is stopping (answer 503).</summary>
    public sealed class StoppedException() : Exception("the server is stopping");

    /// <summary>One admitted job's slot; disposing it frees the slot (once).</summary>
    public sealed class Lease(InferencePool pool) : IDisposable
    {
        private int disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0) Interlocked.Decrement(ref pool.admitted);
        }
    }
}
