using System.Net.Http.Headers;
using AgVas.Data;
using AgVas.Inference;
using AgVas.Server;
using AgVas.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace AgVas.Tests.Server;

/// <summary>A stand-in model: the top-left quarter of every image is anomalous. It can hold each call at a gate (to
/// fill the queue) or throw.</summary>
internal sealed class GatedModel : ISegmentationModel
{
    public ManualResetEventSlim Gate { get; } = new(initialState: true);
    public SemaphoreSlim Started { get; } = new(0);
    public Exception? Failure { get; set; }
    public InstructionType? LastMode { get; private set; }
    public int Calls => calls;
    private int calls;

    public Prediction Predict(RgbImage image, InstructionType mode)
    {
        LastMode = mode;
        Interlocked.Increment(ref calls);
        Started.Release();
        if (!Gate.Wait(TimeSpan.FromSeconds(60))) throw new TimeoutException("the test never opened the gate");
        if (Failure is not null) throw Failure;
        return Expected(image.Width, image.Height, mode);
    }

    /// <summary>What the model answers for an image of this size.</summary>
    public static Prediction Expected(int width, int height, InstructionType mode)
    {
        var map = new float[width * height];
        var mask = new BinaryMask(width, height);
        for (int y = 0; y < height / 2; y++)
            for (int x = 0; x < width / 2; x++)
            {
                map[y * width + x] = 0.9f;
                mask.Data[y * width + x] = true;
            }
        return new Prediction(width, height, map, map, map, map, mask, "Yes, there is an anomaly.", false, mode);
    }
}

/// <summary>Test images and multipart forms.</summary>
internal static class Uploads
{
    public static byte[] Png(int width = 64, int height = 48, byte shade = 120)
    {
        var pixels = new byte[width * height * 3];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(shade + i % 7);
        return ImageIO.EncodeRgbPng(new RgbImage(width, height, pixels));
    }

    public static MultipartFormDataContent Form(params (string Field, string FileName, byte[] Bytes)[] files) => Form(null, files);

    public static MultipartFormDataContent Form(string? mode, params (string Field, string FileName, byte[] Bytes)[] files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (field, fileName, bytes) in files)
        {
            var part = new ByteArrayContent(bytes);
            part.Headers.ContentType = new MediaTypeHeaderValue(fileName.EndsWith(".png") ? "image/png" : "application/octet-stream");
            form.Add(part, field, fileName);
        }
        if (mode is not null) form.Add(new StringContent(mode), "mode");
        return form;
    }
}

/// <summary>An <c>agvas serve</c> application around a model: in memory (TestServer) or on a loopback port (Kestrel).</summary>
public sealed class ServeHost : IAsyncDisposable
{
    private readonly AnomalySegmenter segmenter;
    private readonly bool ownsSegmenter;

    private ServeHost(WebApplication app, AnomalySegmenter segmenter, bool ownsSegmenter, HttpClient client, Uri baseAddress)
    {
        App = app;
        this.segmenter = segmenter;
        this.ownsSegmenter = ownsSegmenter;
        Client = client;
        BaseAddress = baseAddress;
    }

    public WebApplication App { get; }
    public HttpClient Client { get; }
    public Uri BaseAddress { get; }
    internal InferencePool Pool => App.Services.GetRequiredService<InferencePool>();

    internal static Task<ServeHost> InMemory(ISegmentationModel model, ServeOptions? options = null) =>
        Start(new AnomalySegmenter(model, ownsModel: false), ownsSegmenter: true, options ?? new ServeOptions(Workers: 2), inMemory: true);

    public static Task<ServeHost> Loopback(AnomalySegmenter segmenter, bool ownsSegmenter, ServeOptions? options = null) =>
        Start(segmenter, ownsSegmenter, (options ?? new ServeOptions()) with { Port = 0 }, inMemory: false);

    private static async Task<ServeHost> Start(AnomalySegmenter segmenter, bool ownsSegmenter, ServeOptions options, bool inMemory)
    {
        var app = ServeApp.Build(options, new ModelInfo(segmenter, "test model"), inMemory ? b => b.WebHost.UseTestServer() : null);
        await app.StartAsync();
        if (inMemory)
        {
            var client = app.GetTestClient();
            return new ServeHost(app, segmenter, ownsSegmenter, client, client.BaseAddress!);
        }
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
        return new ServeHost(app, segmenter, ownsSegmenter, new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(5) }, address);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        if (ownsSegmenter) segmenter.Dispose();
    }
}
