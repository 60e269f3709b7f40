using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AgVas.Data;
using AgVas.Server;
using AgVas.Text;

namespace AgVas.Tests.Server;

/// <summary>The HTTP API of <c>agvas serve</c> (#17) in memory, with a stand-in model: every status code it answers.</summary>
public sealed class ServeApiTests
{
    private static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    private static async Task<string> Error(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error").GetString();
        Assert.False(string.IsNullOrWhiteSpace(error));
        return error!;
    }

    [Fact]
    public async Task SegmentAnswersTheMaskAtTheImageSizeWithScoreAndAnswer()
    {
        var model = new GatedModel();
        await using var host = await ServeHost.InMemory(model);
        var response = await host.Client.PostAsync("api/segment", Uploads.Form(("image", "part.png", Uploads.Png(64, 48))));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await Json(response);
        Assert.Equal(64, json.GetProperty("width").GetInt32());
        Assert.Equal(48, json.GetProperty("height").GetInt32());
        Assert.Equal(0.9f, json.GetProperty("score").GetSingle(), 5);
        Assert.True(json.GetProperty("anomalous").GetBoolean());
        Assert.Equal(0.25, json.GetProperty("anomaly_fraction").GetDouble(), 6);
        Assert.Equal(GatedModel.Expected(64, 48, InstructionType.DescribeThenSegment).Text, json.GetProperty("answer").GetString());
        Assert.Equal("single", json.GetProperty("source").GetString());
        var mask = ImageIO.LoadMask(Convert.FromBase64String(json.GetProperty("mask_png").GetString()!), "mask_png");
        Assert.Equal(GatedModel.Expected(64, 48, InstructionType.DescribeThenSegment).Mask.Data, mask.Data);
        var overlay = ImageIO.LoadRgb(Convert.FromBase64String(json.GetProperty("overlay_png").GetString()!), "overlay_png");
        Assert.Equal((64, 48), (overlay.Width, overlay.Height));
        Assert.Equal(InstructionType.DescribeThenSegment, model.LastMode);
    }

    [Theory]
    [InlineData("DirectSegmentation", InstructionType.DirectSegmentation)]
    [InlineData("segment-then-explain", InstructionType.SegmentThenExplain)]
    [InlineData("describe_then_segment_plus", InstructionType.DescribeThenSegmentPlus)]
    public async Task TheModeFieldChoosesTheQuestion(string mode, InstructionType expected)
    {
        var model = new GatedModel();
        await using var host = await ServeHost.InMemory(model);
        var response = await host.Client.PostAsync("api/segment", Uploads.Form(mode, ("image", "a.png", Uploads.Png())));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, model.LastMode);
        Assert.Equal(expected.ToString(), (await Json(response)).GetProperty("mode").GetString());
    }

    [Fact]
    public async Task BadRequestsGet400WithTheProblemInWords()
    {
        await using var host = await ServeHost.InMemory(new GatedModel());
        var notImage = await Error(await host.Client.PostAsync("api/segment",
            Uploads.Form(("image", "notes.txt", Encoding.UTF8.GetBytes("this is not an image")))), HttpStatusCode.BadRequest);
        Assert.StartsWith("notes.txt: ", notImage);    // the decoder's words follow ("not a readable image", "truncated image", ...)
        var truncated = await Error(await host.Client.PostAsync("api/segment",
            Uploads.Form(("image", "cut.png", Uploads.Png()[..60]))), HttpStatusCode.BadRequest);
        Assert.Contains("cut.png", truncated);
        Assert.Contains("'image'", await Error(await host.Client.PostAsync("api/segment",
            Uploads.Form(("picture", "a.png", Uploads.Png()))), HttpStatusCode.BadRequest));
        var text = new MultipartFormDataContent { { new StringContent("hello"), "image" } };
        Assert.Contains("must be a file", await Error(await host.Client.PostAsync("api/segment", text), HttpStatusCode.BadRequest));
        Assert.Contains("empty", await Error(await host.Client.PostAsync("api/segment",
            Uploads.Form(("image", "zero.png", Array.Empty<byte>()))), HttpStatusCode.BadRequest));
        var mode = await Error(await host.Client.PostAsync("api/segment", Uploads.Form("fastest", ("image", "a.png", Uploads.Png()))), HttpStatusCode.BadRequest);
        Assert.Contains("unknown mode 'fastest'", mode);
        Assert.Contains("DirectSegmentation", mode);
        Assert.Contains("/api/segment/batch", await Error(await host.Client.PostAsync("api/segment",
            Uploads.Form(("image", "a.png", Uploads.Png()), ("image", "b.png", Uploads.Png()))), HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task ABodyThatIsNotAFormGetsAnErrorInJson()
    {
        await using var host = await ServeHost.InMemory(new GatedModel());
        var json = await Error(await host.Client.PostAsync("api/segment", JsonContent.Create(new { image = "x" })), HttpStatusCode.UnsupportedMediaType);
        Assert.Contains("multipart/form-data", json);
        Assert.Contains("x-www-form-urlencoded", await Error(await host.Client.PostAsync("api/segment",
            new FormUrlEncodedContent([new("image", "x")])), HttpStatusCode.UnsupportedMediaType));
    }

    [Fact]
    public async Task AnUploadOverTheLimitGets413WhetherItsLengthIsDeclaredOrNot()
    {
        var model = new GatedModel();
        await using var host = await ServeHost.InMemory(model, new ServeOptions(MaxUploadMb: 1, Workers: 1));
        var big = new byte[1024 * 1024 + 4096];
        Random.Shared.NextBytes(big);
        var declared = await Error(await host.Client.PostAsync("api/segment", Uploads.Form(("image", "big.png", big))), HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("1 MiB", declared);
        var chunked = new HttpRequestMessage(HttpMethod.Post, "api/segment") { Content = Uploads.Form(("image", "big.png", big)) };
        chunked.Headers.TransferEncodingChunked = true;
        await Error(await host.Client.SendAsync(chunked), HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(0, model.Calls);
        Assert.Equal(HttpStatusCode.OK, (await host.Client.PostAsync("api/segment", Uploads.Form(("image", "a.png", Uploads.Png())))).StatusCode);
    }

    [Fact]
    public async Task AFullQueueGets429WithRetryAfterAndTheQueuedRequestsStillComplete()
    {
        var model = new GatedModel();
        model.Gate.Reset();
        await using var host = await ServeHost.InMemory(model, new ServeOptions(Workers: 1, MaxQueue: 1));
        Assert.Equal(2, host.Pool.Capacity);
        var running = host.Client.PostAsync("api/segment", Uploads.Form(("image", "1.png", Uploads.Png())));
        Assert.True(await model.Started.WaitAsync(TimeSpan.FromSeconds(30)), "the first request never reached the model");
        var queued = host.Client.PostAsync("api/segment", Uploads.Form(("image", "2.png", Uploads.Png())));
        for (int i = 0; i < 300 && host.Pool.Admitted < 2; i++) await Task.Delay(20);
        Assert.Equal(2, host.Pool.Admitted);

        var refused = await host.Client.PostAsync("api/segment", Uploads.Form(("image", "3.png", Uploads.Png())));
        Assert.Contains("busy", await Error(refused, HttpStatusCode.TooManyRequests));
        var retryAfter = refused.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.True(retryAfter >= TimeSpan.FromSeconds(1), $"Retry-After {retryAfter}");
        var health = await host.Client.GetFromJsonAsync<JsonElement>("healthz");
        Assert.Equal(2, health.GetProperty("admitted").GetInt32());

        model.Gate.Set();
        Assert.Equal(HttpStatusCode.OK, (await running).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await queued).StatusCode);
        for (int i = 0; i < 300 && host.Pool.Admitted > 0; i++) await Task.Delay(20);
        Assert.Equal(0, host.Pool.Admitted);
        Assert.Equal(HttpStatusCode.OK, (await host.Client.PostAsync("api/segment", Uploads.Form(("image", "4.png", Uploads.Png())))).StatusCode);
    }

    [Fact]
    public async Task AFailureOfTheModelIs500InJsonAndTheServerKeepsServing()
    {
        var model = new GatedModel { Failure = new InvalidOperationException("the model broke") };
        await using var host = await ServeHost.InMemory(model);
        Assert.Contains("the model broke", await Error(await host.Client.PostAsync("api/segment",
            Uploads.Form(("image", "a.png", Uploads.Png()))), HttpStatusCode.InternalServerError));
        model.Failure = null;
        Assert.Equal(HttpStatusCode.OK, (await host.Client.PostAsync("api/segment", Uploads.Form(("image", "a.png", Uploads.Png())))).StatusCode);
        Assert.Equal(0, host.Pool.Admitted);
    }

    [Fact]
    public async Task UnknownPathsAndMethodsGetErrorsInJson()
    {
        await using var host = await ServeHost.InMemory(new GatedModel());
        Assert.Contains("/nowhere", await Error(await host.Client.GetAsync("nowhere"), HttpStatusCode.NotFound));
        Assert.Contains("GET", await Error(await host.Client.GetAsync("api/segment"), HttpStatusCode.MethodNotAllowed));
    }

    [Fact]
    public async Task HealthOpenApiAndMetricsAnswer()
    {
        await using var host = await ServeHost.InMemory(new GatedModel(), new ServeOptions(Workers: 2, MaxQueue: 5));
        var health = await host.Client.GetAsync("healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        var json = await Json(health);
        Assert.Equal("Healthy", json.GetProperty("status").GetString());
        Assert.Equal(2, json.GetProperty("workers").GetInt32());
        Assert.Equal(7, json.GetProperty("capacity").GetInt32());
        Assert.Equal("test model", json.GetProperty("model").GetString());

        var openApi = await Json(await host.Client.GetAsync("openapi/v1.json"));
        Assert.StartsWith("3.", openApi.GetProperty("openapi").GetString());
        var segment = openApi.GetProperty("paths").GetProperty("/api/segment").GetProperty("post");
        Assert.True(segment.GetProperty("requestBody").GetProperty("content").TryGetProperty("multipart/form-data", out _));
        foreach (var code in new[] { "200", "400", "413", "429" })
            Assert.True(segment.GetProperty("responses").TryGetProperty(code, out _), $"/api/segment documents no {code}");
        Assert.True(segment.GetProperty("responses").GetProperty("429").GetProperty("headers").TryGetProperty("Retry-After", out _));
        Assert.True(openApi.GetProperty("paths").TryGetProperty("/api/segment/batch", out _));
        var form = openApi.GetProperty("components").GetProperty("schemas").GetProperty("SegmentForm");
        Assert.Equal(["image"], form.GetProperty("required").EnumerateArray().Select(r => r.GetString()));
        Assert.True(form.GetProperty("properties").TryGetProperty("mode", out _));
        var schema = openApi.GetProperty("components").GetProperty("schemas").GetProperty("SegmentResponse").GetProperty("properties");
        foreach (var field in new[] { "width", "height", "score", "anomalous", "anomaly_fraction", "answer", "mask_png" })
            Assert.True(schema.TryGetProperty(field, out _), $"SegmentResponse has no {field}");

        await host.Client.PostAsync("api/segment", Uploads.Form(("image", "a.png", Uploads.Png())));
        var metrics = await host.Client.GetStringAsync("metrics");
        Assert.Contains("http_requests_received_total", metrics);
        Assert.Contains("http_request_duration_seconds_bucket", metrics);
        Assert.Contains("agvas_inference_duration_seconds_bucket", metrics);
        Assert.Contains("agvas_queue_length", metrics);
        Assert.Contains("endpoint=\"/api/segment\"", metrics);
    }

    [Fact]
    public async Task ThePageIsServedFromTheAssemblyWithoutAnythingFromOutside()
    {
        await using var host = await ServeHost.InMemory(new GatedModel());
        var page = await host.Client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("id=\"file-input\"", html);
        foreach (var asset in new[] { "app.js", "app.css" })
        {
            Assert.Contains(asset, html);
            var text = await host.Client.GetStringAsync(asset);
            Assert.DoesNotContain("http://", text.Replace("http://127.0.0.1", ""));
            Assert.DoesNotContain("https://", text);
        }
        Assert.DoesNotContain("https://", html);
    }

    [Fact]
    public async Task ABatchAnswersEveryImageInUploadOrderWithPerImageErrors()
    {
        var model = new GatedModel();
        await using var host = await ServeHost.InMemory(model, new ServeOptions(Workers: 1, MaxBatch: 4));
        var response = await host.Client.PostAsync("api/segment/batch", Uploads.Form("DirectSegmentation",
            ("image", "c.png", Uploads.Png(40, 30, 90)), ("image", "a.png", Uploads.Png(48, 32, 100)),
            ("image", "broken.png", Encoding.UTF8.GetBytes("no")), ("image", "b.png", Uploads.Png(40, 30, 110))));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await Json(response);
        var results = json.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(["c.png", "a.png", "broken.png", "b.png"], results.Select(r => r.GetProperty("name").GetString()));
        Assert.Equal(48, results[1].GetProperty("result").GetProperty("width").GetInt32());
        Assert.Equal("batch", results[0].GetProperty("result").GetProperty("source").GetString());
        Assert.Equal("DirectSegmentation", results[3].GetProperty("result").GetProperty("mode").GetString());
        Assert.Contains("broken.png", results[2].GetProperty("error").GetString());
        Assert.DoesNotContain("agvas-serve-", results[2].GetProperty("error").GetString());
        Assert.Equal(JsonValueKind.Null, results[2].GetProperty("result").ValueKind);

        Assert.Contains("at most 4", await Error(await host.Client.PostAsync("api/segment/batch", Uploads.Form(
            Enumerable.Range(0, 5).Select(i => ("image", $"{i}.png", Uploads.Png())).ToArray())), HttpStatusCode.RequestEntityTooLarge));
        Assert.Contains("no image of the batch", await Error(await host.Client.PostAsync("api/segment/batch", Uploads.Form(
            ("image", "x.txt", Encoding.UTF8.GetBytes("x")), ("image", "y.txt", Encoding.UTF8.GetBytes("y")))), HttpStatusCode.BadRequest));
        Assert.Equal(0, host.Pool.Admitted);
    }

    [Fact]
    public void OptionsAreValidated()
    {
        Assert.Throws<ArgumentException>(() => new ServeOptions(Port: 70000).Validate());
        Assert.Throws<ArgumentException>(() => new ServeOptions(MaxUploadMb: 0).Validate());
        Assert.Throws<ArgumentException>(() => new ServeOptions(MaxQueue: -1).Validate());
        Assert.Equal("http://[::1]:8080", new ServeOptions(Host: "::1").Url);
        Assert.Equal(Environment.ProcessorCount, new ServeOptions().WorkerCount);
    }
}
