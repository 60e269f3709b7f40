using AgVas.Inference;

namespace AgVas.Server;

/// <summary>The loaded model and what to call it (in /healthz and the page).</summary>
/// <param name="Segmenter">the one segmenter every worker shares (owned by the caller)</param>
/// <param name="Name">the model directory, or "default (…)"</param>
public sealed record ModelInfo(AnomalySegmenter Segmenter, string Name);
