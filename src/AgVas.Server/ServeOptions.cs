namespace AgVas.Server;

/// <summary>How <c>agvas serve</c> runs (#17).</summary>
/// <param name="ModelDir">the model directory; null: the embedded default model</param>
/// <param name="Host">the address to bind (loopback by default: nothing outside the machine can reach the server)</param>
/// <param name="Port">the TCP port; 0 picks a free one</param>
/// <param name="MaxQueue">uploads that may wait for a worker; one more gets 429 with Retry-After</param>
/// <param name="MaxUploadMb">largest image file, in MiB (a larger upload gets 413)</param>
/// <param name="Workers">inference workers sharing the one loaded model (default: the number of cores)</param>
/// <param name="MaxBatch">most images in one batch request (<c>POST /api/segment/batch</c>)</param>
/// <param name="ShutdownSeconds">how long Ctrl-C waits for the requests in flight</param>
public sealed record ServeOptions(
    string? ModelDir = null,
    string Host = "127.0.0.1",
    int Port = 8080,
    int MaxQueue = 16,
    int MaxUploadMb = 20,
    int Workers = 0,
    int MaxBatch = 16,
    int ShutdownSeconds = 120)
{
    /// <summary>Workers, with 0 meaning one per core.</summary>
    public int WorkerCount => Workers > 0 ? Workers : Environment.ProcessorCount;

    /// <summary>Largest image file in bytes.</summary>
    public long MaxUploadBytes => MaxUploadMb * 1024L * 1024L;

    /// <summary>Largest request body of one image: the file plus room for the multipart framing and the other fields.</summary>
    public long MaxSingleRequestBytes => MaxUploadBytes + 64 * 1024;

    /// <summary>Largest request body of a batch.</summary>
    public long MaxBatchRequestBytes => MaxUploadBytes * MaxBatch + 64 * 1024;

    /// <summary>The URL to listen on (IPv6 literals in brackets).</summary>
    public string Url => $"http://{(Host.Contains(':') && !Host.StartsWith('[') ? $"[{Host}]" : Host)}:{Port}";

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Host)) throw new ArgumentException("--host must not be empty");
        if (Port is < 0 or > 65535) throw new ArgumentException($"--port must be in 0..65535, got {Port}");
        if (MaxQueue < 0) throw new ArgumentException($"--max-queue must be ≥ 0, got {MaxQueue}");
        if (MaxUploadMb is < 1 or > 1024) throw new ArgumentException($"--max-upload-mb must be in 1..1024, got {MaxUploadMb}");
        if (Workers < 0) throw new ArgumentException($"--workers must be ≥ 0 (0: one per core), got {Workers}");
        if (MaxBatch is < 2 or > 256) throw new ArgumentException($"--max-batch must be in 2..256, got {MaxBatch}");
        if (ShutdownSeconds < 0) throw new ArgumentException($"--shutdown-seconds must be ≥ 0, got {ShutdownSeconds}");
    }
}
