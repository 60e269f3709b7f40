namespace AgVas.Server;

/// <summary>The answer of <c>POST /api/segment</c> (JSON in snake_case).</summary>
/// <param name="Width">the image's width in pixels</param>
/// <param name="Height">the image's height in pixels</param>
/// <param name="Score">the image's anomaly score, the maximum of the anomaly map, in [0, 1]</param>
/// <param name="Anomalous">true when the mask is not empty</param>
/// <param name="AnomalyFraction">the mask's area as a fraction of the image</param>
/// <param name="Answer">the model's answer, made to agree with the mask</param>
/// <param name="MaskPng">the mask, base64 8-bit grey PNG at the image's size (255 = anomaly)</param>
/// <param name="OverlayPng">the image with the anomaly map as a heat layer and the mask's contour in red, base64 PNG</param>
/// <param name="AnomalyPixels">the mask's area in pixels</param>
/// <param name="Mode">the instruction type asked</param>
/// <param name="Source">how the image was scored: single, or batch in a batch request</param>
public sealed record SegmentResponse(int Width, int Height, float Score, bool Anomalous, double AnomalyFraction, string Answer,
    string MaskPng, string OverlayPng, int AnomalyPixels, string Mode, string Source);

/// <summary>One image of <c>POST /api/segment/batch</c>: its result, or why it failed.</summary>
/// <param name="Name">the uploaded file's name</param>
/// <param name="Result">the result; null when the image could not be read</param>
/// <param name="Error">why the image failed; null otherwise</param>
public sealed record BatchItemResponse(string Name, SegmentResponse? Result, string? Error);

/// <summary>The answer of <c>POST /api/segment/batch</c>: one item per uploaded image in upload order, and the
/// context fallbacks (e.g. "one readable image: scored without batch context").</summary>
public sealed record BatchResponse(IReadOnlyList<BatchItemResponse> Results, IReadOnlyList<string> Warnings);

/// <summary>Every error: 400, 404, 413, 429, 500.</summary>
/// <param name="Error">what is wrong, in words</param>
public sealed record ErrorResponse(string Error);

/// <summary>The answer of <c>GET /healthz</c>.</summary>
/// <param name="Status">Healthy or Unhealthy</param>
/// <param name="Model">the model directory served</param>
/// <param name="Workers">inference workers</param>
/// <param name="Running">jobs being run</param>
/// <param name="Admitted">jobs admitted (running, queued or uploading)</param>
/// <param name="Capacity">jobs admitted at once at most</param>
public sealed record HealthResponse(string Status, string Model, int Workers, int Running, int Admitted, int Capacity);
