using AgVas.Data;
using AgVas.Inference;
using AgVas.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace AgVas.Server;

/// <summary>
/// <c>POST /api/segment</c> (one image) and <c>POST /api/segment/batch</c> (several images scored together with batch
/// context, <see cref="AnomalySegmenter.SegmentBatch"/>). Both take multipart/form-data with the image(s) in the field
/// <c>image</c> and an optional instruction type in <c>mode</c>. Order of the checks: 400 when the body is not a form,
/// 413 when the declared length is over the limit, 429 when the pool is full (before the upload is read), then the form
/// is read (413 over the limit), then 400 for a missing field, an empty file, an unknown mode or an undecodable image.
/// </summary>
internal static class SegmentEndpoints
{
    public const string Field = "image";

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/api/segment", Segment)
            .WithName("Segment")
            .WithSummary("Segments one image: mask, overlay, score and answer")
            .WithDescription("multipart/form-data: `image` (PNG, JPEG, BMP or WebP file), optional `mode` " +
                             "(DirectSegmentation, DescribeThenSegment, DescribeThenSegmentPlus, SegmentThenExplain).")
            .Accepts<SegmentForm>("multipart/form-data")
            .Produces<SegmentResponse>(StatusCodes.Status200OK)
            .UploadEndpoint();
        app.MapPost("/api/segment/batch", SegmentBatch)
            .WithName("SegmentBatch")
            .WithSummary("Scores several images of one kind together (batch context): one result per image, in upload order")
            .WithDescription("multipart/form-data: `image` repeated (2 to --max-batch files), optional `mode`. Each image is " +
                             "compared with the others of the upload (docs/design.md §11); an unreadable image gets its own error.")
            .Accepts<BatchForm>("multipart/form-data")
            .Produces<BatchResponse>(StatusCodes.Status200OK)
            .UploadEndpoint();
    }

    /// <summary>What both upload endpoints share: their error responses (400, 413, 429) and no antiforgery token.</summary>
    private static RouteHandlerBuilder UploadEndpoint(this RouteHandlerBuilder endpoint) => endpoint
        .Produces<ErrorResponse>(StatusCodes.Status400BadRequest)
        .Produces<ErrorResponse>(StatusCodes.Status413PayloadTooLarge)
        .Produces<ErrorResponse>(StatusCodes.Status429TooManyRequests)
        .DisableAntiforgery();

    /// <summary>The form of <c>POST /api/segment</c> (for the OpenAPI document).</summary>
    internal sealed record SegmentForm(IFormFile Image)
    {
        /// <summary>The instruction type (optional).</summary>
        public string? Mode { get; init; }
    }

    /// <summary>The form of <c>POST /api/segment/batch</c> (for the OpenAPI document).</summary>
    internal sealed record BatchForm(IFormFileCollection Image)
    {
        /// <summary>The instruction type (optional).</summary>
        public string? Mode { get; init; }
    }

    private static async Task<IResult> Segment(HttpContext context, InferencePool pool, ModelInfo model, ServeOptions options)
    {
        var (form, lease, refusal) = await Admit(context, pool, options.MaxSingleRequestBytes, options);
        if (refusal is not null) return refusal;
        bool submitted = false;
        try
        {
            var files = form!.Files.GetFiles(Field);
            if (files.Count == 0) return BadRequest(MissingImage(form));
            if (files.Count > 1) return BadRequest($"one image per request in the field '{Field}' (got {files.Count}); POST several to /api/segment/batch");
            var file = files[0];
            if (Check(file, options) is { } fileRefusal) return fileRefusal;
            if (!TryMode(form, out var mode, out var modeError)) return BadRequest(modeError);
            var bytes = await ReadAll(file, context.RequestAborted);
            string name = DisplayName(file);
            submitted = true;
            var response = await pool.RunAsync(lease!, "single", () =>
            {
                var image = ImageIO.LoadRgb(bytes, name);
                var prediction = model.Segmenter.Segment(image, mode);
                ServeMetrics.Images.WithLabels(prediction.IsAnomalous ? "anomalous" : "normal").Inc();
                return ImageEncoding.Response(prediction, image, "single");
            }, context.RequestAborted);
            return Results.Json(response);
        }
        catch (DataException e)
        {
            return BadRequest(e.Message);
        }
        catch (InferencePool.StoppedException e)
        {
            return Results.Json(new ErrorResponse(e.Message), statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        finally
        {
            if (!submitted) lease!.Dispose();
        }
    }

    private static async Task<IResult> SegmentBatch(HttpContext context, InferencePool pool, ModelInfo model, ServeOptions options)
    {
        var (form, lease, refusal) = await Admit(context, pool, options.MaxBatchRequestBytes, options);
        if (refusal is not null) return refusal;
        bool submitted = false;
        DirectoryInfo? folder = null;
        try
        {
            var files = form!.Files.GetFiles(Field);
            if (files.Count == 0) return BadRequest(MissingImage(form));
            if (files.Count > options.MaxBatch)
                return Refuse(StatusCodes.Status413PayloadTooLarge, "too_large", $"a batch holds at most {options.MaxBatch} images (--max-batch), got {files.Count}");
            foreach (var file in files)
                if (Check(file, options) is { } fileRefusal) return fileRefusal;
            if (!TryMode(form, out var mode, out var modeError)) return BadRequest(modeError);
            // SegmentBatch reads files: the uploads go to a private temporary folder, named by their position.
            folder = Directory.CreateTempSubdirectory("agvas-serve-");
            var items = new List<ContextItem>(files.Count);
            var names = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < files.Count; i++)
            {
                string path = Path.Combine(folder.FullName, $"{i:D4}{SafeExtension(files[i].FileName)}");
                await using (var target = File.Create(path))
                    await files[i].CopyToAsync(target, context.RequestAborted);
                items.Add(new ContextItem(path, "upload", $"{i:D4}"));
                names[path] = DisplayName(files[i]);
            }
            submitted = true;
            var response = await pool.RunAsync(lease!, "batch", () =>
            {
                var warnings = new List<string>();
                var results = new BatchItemResponse[items.Count];
                foreach (var r in model.Segmenter.SegmentBatch(items, new ContextOptions { Batch = true }, mode,
                             new SynchronousProgress<ContextWarning>(w => warnings.Add(w.Message))))
                {
                    string name = names[r.Item.ImagePath];
                    if (r.Prediction is { } prediction && r.Image is { } image)
                    {
                        ServeMetrics.Images.WithLabels(prediction.IsAnomalous ? "anomalous" : "normal").Inc();
                        results[r.Index] = new BatchItemResponse(name, ImageEncoding.Response(prediction, image, r.Source.ToString().ToLowerInvariant()), null);
                    }
                    else results[r.Index] = new BatchItemResponse(name, null, (r.Error ?? "could not be read").Replace(r.Item.ImagePath, name));
                }
                return new BatchResponse(results, warnings.Select(w => w.Replace("'upload'", "of this upload")).ToList());
            }, context.RequestAborted);
            if (response.Results.All(r => r.Error is not null))
                return BadRequest("no image of the batch could be read: " + string.Join("; ", response.Results.Select(r => r.Error)));
            return Results.Json(response);
        }
        catch (InferencePool.StoppedException e)
        {
            return Results.Json(new ErrorResponse(e.Message), statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        finally
        {
            if (!submitted) lease!.Dispose();
            if (folder is not null)
                try { folder.Delete(recursive: true); }
                catch (IOException) { }
        }
    }

    /// <summary>Checks what can be checked before reading the body, takes a pool slot, then reads the form.</summary>
    private static async Task<(IFormCollection? Form, InferencePool.Lease? Lease, IResult? Refusal)> Admit(HttpContext context, InferencePool pool,
        long maxBody, ServeOptions options)
    {
        var request = context.Request;
        if (!request.HasFormContentType)
            return (null, null, BadRequest($"send multipart/form-data with the image file in the field '{Field}' (got Content-Type '{request.ContentType ?? "none"}')"));
        if (request.ContentLength > maxBody)
            return (null, null, TooLarge(options, request.ContentLength.Value));
        var lease = pool.TryAdmit();
        if (lease is null)
        {
            ServeMetrics.Rejected.WithLabels("queue_full").Inc();
            int retry = pool.RetryAfterSeconds();
            context.Response.Headers.RetryAfter = retry.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return (null, null, Results.Json(new ErrorResponse($"the server is busy ({pool.Capacity} images in progress or queued); retry in {retry} s"),
                statusCode: StatusCodes.Status429TooManyRequests));
        }
        try
        {
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = maxBody;
            var form = await request.ReadFormAsync(context.RequestAborted);
            return (form, lease, null);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            lease.Dispose();
            return (null, null, TooLarge(options, null));
        }
        catch (InvalidDataException e) when (e.Message.Contains("limit", StringComparison.OrdinalIgnoreCase))
        {
            lease.Dispose();
            return (null, null, TooLarge(options, null));
        }
        catch (Exception e) when (e is BadHttpRequestException or InvalidDataException or IOException)
        {
            lease.Dispose();
            return (null, null, BadRequest($"the multipart form could not be read: {e.Message}"));
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    private static IResult? Check(IFormFile file, ServeOptions options)
    {
        if (file.Length > options.MaxUploadBytes)
            return Refuse(StatusCodes.Status413PayloadTooLarge, "too_large",
                $"'{DisplayName(file)}' is {file.Length / 1048576.0:F1} MiB, over the limit of {options.MaxUploadMb} MiB (--max-upload-mb)");
        if (file.Length == 0) return BadRequest($"'{DisplayName(file)}' is empty");
        return null;
    }

    private static string MissingImage(IFormCollection form) => form.ContainsKey(Field)
        ? $"the field '{Field}' must be a file (multipart part with a filename), not text"
        : $"no image: send the file in the multipart field '{Field}'" + (form.Files.Count > 0 ? $" (got field(s) {string.Join(", ", form.Files.Select(f => $"'{f.Name}'").Distinct())})" : "");

    /// <summary>The instruction type of the form's <c>mode</c>: a name of <see cref="InstructionType"/>, case and
    /// '-'/'_' ignored; absent means the server's default.</summary>
    internal static bool TryMode(IFormCollection form, out InstructionType? mode, out string error)
    {
        mode = null;
        error = "";
        string? text = form["mode"].FirstOrDefault();
        if (string.IsNullOrWhiteSpace(text)) return true;
        string key = text.Replace("-", "").Replace("_", "").Trim();
        foreach (var value in Enum.GetValues<InstructionType>())
            if (string.Equals(value.ToString(), key, StringComparison.OrdinalIgnoreCase))
            {
                mode = value;
                return true;
            }
        error = $"unknown mode '{text}': use one of {string.Join(", ", Enum.GetNames<InstructionType>())}";
        return false;
    }

    private static async Task<byte[]> ReadAll(IFormFile file, CancellationToken cancellationToken)
    {
        var bytes = new byte[file.Length];
        await using var stream = file.OpenReadStream();
        await stream.ReadExactlyAsync(bytes, cancellationToken);
        return bytes;
    }

    private static string DisplayName(IFormFile file) => string.IsNullOrWhiteSpace(file.FileName) ? "upload" : Path.GetFileName(file.FileName);

    private static string SafeExtension(string fileName)
    {
        string ext = Path.GetExtension(Path.GetFileName(fileName ?? "")).ToLowerInvariant();
        return ext.Length is > 1 and <= 6 && ext.Skip(1).All(char.IsAsciiLetterOrDigit) ? ext : ".img";
    }

    private static IResult TooLarge(ServeOptions options, long? length) => Refuse(StatusCodes.Status413PayloadTooLarge, "too_large",
        (length is { } n ? $"the upload is {n / 1048576.0:F1} MiB, " : "the upload is ") +
        $"over the limit of {options.MaxUploadMb} MiB per image (--max-upload-mb)");

    internal static IResult BadRequest(string message) => Refuse(StatusCodes.Status400BadRequest, "bad_request", message);

    private static IResult Refuse(int status, string reason, string message)
    {
        ServeMetrics.Rejected.WithLabels(reason).Inc();
        return Results.Json(new ErrorResponse(message), statusCode: status);
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
