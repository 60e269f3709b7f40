using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.OpenApi;
using Prometheus;

namespace AgVas.Server;

/// <summary>
/// The web application of <c>agvas serve</c> (#17): <c>GET /</c> (the page, embedded in this assembly),
/// <c>POST /api/segment</c>, <c>POST /api/segment/batch</c>, <c>GET /healthz</c>, <c>GET /openapi/v1.json</c> and
/// <c>GET /metrics</c>. Every error is JSON <c>{"error": "..."}</c>.
/// </summary>
public static class ServeApp
{
    /// <summary>The JSON the API writes: snake_case names, enums as strings.</summary>
    public static void ConfigureJson(JsonSerializerOptions json)
    {
        json.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        json.Converters.Add(new JsonStringEnumConverter());
    }

    /// <summary>Builds the application around a loaded model (which the caller keeps and disposes).</summary>
    /// <param name="options">the server's options</param>
    /// <param name="model">the one model every worker shares</param>
    /// <param name="configure">a last change to the builder (tests use an in-memory server)</param>
    public static WebApplication Build(ServeOptions options, ModelInfo model, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(model);
        options.Validate();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(ServeApp).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);    // agvas serve prints its own lines
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.Critical);   // a failed start (port in use) is thrown to the caller
        builder.WebHost.UseUrls(options.Url);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxBatchRequestBytes;   // each endpoint lowers it for its requests
        });
        builder.Services.Configure<FormOptions>(form => form.MultipartBodyLengthLimit = options.MaxBatchRequestBytes);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(options.ShutdownSeconds));
        builder.Services.ConfigureHttpJsonOptions(json => ConfigureJson(json.SerializerOptions));
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(model);
        builder.Services.AddSingleton<InferencePool>();
        builder.Services.AddHostedService(services => services.GetRequiredService<InferencePool>());
        builder.Services.AddHealthChecks().AddCheck<InferenceHealthCheck>("inference");
        builder.Services.AddOpenApi(openApi => openApi.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "AgVas.NET serve";
            document.Info.Description = "Zero-shot visual anomaly segmentation over HTTP (agvas serve, #17). Errors are JSON {\"error\": \"...\"}.";
            document.Info.Version = typeof(ServeApp).Assembly.GetName().Version?.ToString(3) ?? "0";
            return Task.CompletedTask;
        }).AddOperationTransformer((operation, _, _) =>
        {
            // A 429 tells the client when to come back.
            if (operation.Responses?.TryGetValue("429", out var busy) == true && busy is OpenApiResponse response)
                response.Headers = new Dictionary<string, IOpenApiHeader>
                {
                    ["Retry-After"] = new OpenApiHeader
                    {
                        Description = "seconds to wait before retrying",
                        Schema = new OpenApiSchema { Type = JsonSchemaType.Integer },
                    },
                };
            return Task.CompletedTask;
        }));
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseExceptionHandler(error => error.Run(async context =>
        {
            var failure = context.Features.Get<IExceptionHandlerFeature>()?.Error;
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("AgVas.Server")
                .LogError(failure, "request {Path} failed", context.Request.Path);
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            await Results.Json(new ErrorResponse($"internal error: {failure?.Message ?? "unknown"}"), statusCode: 500).ExecuteAsync(context);
        }));
        app.UseStatusCodePages(async status =>
        {
            var response = status.HttpContext.Response;
            string message = response.StatusCode switch
            {
                StatusCodes.Status404NotFound => $"no such page or endpoint: {status.HttpContext.Request.Path}",
                StatusCodes.Status405MethodNotAllowed => $"{status.HttpContext.Request.Method} is not allowed on {status.HttpContext.Request.Path}",
                StatusCodes.Status415UnsupportedMediaType => $"send multipart/form-data with the image file in the field '{SegmentEndpoints.Field}' " +
                                                             $"(got Content-Type '{status.HttpContext.Request.ContentType ?? "none"}')",
                StatusCodes.Status413PayloadTooLarge => $"the upload is over the limit of {options.MaxUploadMb} MiB per image (--max-upload-mb)",
                _ => ReasonPhrases.GetReasonPhrase(response.StatusCode),
            };
            await Results.Json(new ErrorResponse(message), statusCode: response.StatusCode).ExecuteAsync(status.HttpContext);
        });
        var page = new EmbeddedFileProvider(typeof(ServeApp).Assembly, "AgVas.Server.wwwroot");
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = page });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = page });
        app.UseRouting();
        app.UseHttpMetrics();
        app.MapOpenApi();
        app.MapHealthChecks("/healthz", new HealthCheckOptions { ResponseWriter = WriteHealth });
        app.MapMetrics();
        SegmentEndpoints.Map(app);
        return app;
    }

    private static Task WriteHealth(HttpContext context, Microsoft.Extensions.Diagnostics.HealthChecks.HealthReport report)
    {
        var pool = context.RequestServices.GetRequiredService<InferencePool>();
        var model = context.RequestServices.GetRequiredService<ModelInfo>();
        return Results.Json(new HealthResponse(report.Status.ToString(), model.Name, pool.Workers, pool.Busy, pool.Admitted, pool.Capacity),
            statusCode: context.Response.StatusCode).ExecuteAsync(context);
    }
}
