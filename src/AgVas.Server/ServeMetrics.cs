using Prometheus;

namespace AgVas.Server;

/// <summary>The server's own Prometheus metrics, beside prometheus-net's HTTP ones (<c>http_requests_received_total</c>,
/// <c>http_request_duration_seconds</c>) and process ones (<c>process_resident_memory_bytes</c>, ...).</summary>
internal static class ServeMetrics
{
    /// <summary>Time a worker spends on one job (decode, inference, PNG encoding), by endpoint.</summary>
    public static readonly Histogram InferenceSeconds = Metrics.CreateHistogram("agvas_inference_duration_seconds",
        "Time a worker spent on one job: decoding, inference and encoding the PNGs", new HistogramConfiguration
        {
            LabelNames = ["kind"],
            Buckets = Histogram.ExponentialBuckets(0.05, 2, 12),
        });

    /// <summary>Time a job waited in the queue for a worker.</summary>
    public static readonly Histogram QueueWaitSeconds = Metrics.CreateHistogram("agvas_queue_wait_seconds",
        "Time a job waited for a worker", new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.01, 2, 14) });

    /// <summary>Jobs waiting for a worker.</summary>
    public static readonly Gauge Queued = Metrics.CreateGauge("agvas_queue_length", "Jobs waiting for a worker");

    /// <summary>Jobs a worker is running.</summary>
    public static readonly Gauge Running = Metrics.CreateGauge("agvas_jobs_running", "Jobs being run by a worker");

    /// <summary>Uploads refused, by reason (queue_full, too_large, bad_request).</summary>
    public static readonly Counter Rejected = Metrics.CreateCounter("agvas_rejected_total",
        "Uploads refused, by reason", new CounterConfiguration { LabelNames = ["reason"] });

    /// <summary>Images segmented, by verdict.</summary>
    public static readonly Counter Images = Metrics.CreateCounter("agvas_images_total",
        "Images segmented, by verdict", new CounterConfiguration { LabelNames = ["verdict"] });
}
