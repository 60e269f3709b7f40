using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgVas.Data;
using AgVas.Inference;
using AgVas.Tests.Training;
using Microsoft.Playwright;

namespace AgVas.Tests.Server;

/// <summary>The embedded model behind <c>agvas serve</c> on a loopback port, loaded once for the class.</summary>
public sealed class ServedDefaultModel : IAsyncLifetime
{
    public AnomalySegmenter Segmenter { get; private set; } = null!;
    public ServeHost Host { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Segmenter = AnomalySegmenter.LoadDefault();
        Host = await ServeHost.Loopback(Segmenter, ownsSegmenter: true);
    }

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

/// <summary>
/// <c>agvas serve</c> with the embedded model: the API answers what the library answers, and the page, driven in a real
/// browser (Debian's chromium through Microsoft.Playwright), shows the API's mask. The browser test is never skipped: CI
/// installs chromium (.ci/run); elsewhere set AGVAS_CHROMIUM to a Chromium executable.
/// </summary>
[Collection(SerialTrainingCollection.Name)]
public sealed class ServeWithModelTests(ServedDefaultModel served) : IClassFixture<ServedDefaultModel>
{
    private static readonly string Sample = Repository.Path("samples/images/cookie/anomaly-1.jpg");

    private static string Chromium =>
        Environment.GetEnvironmentVariable("AGVAS_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    private async Task<JsonElement> SegmentOverHttp(string path)
    {
        var response = await served.Host.Client.PostAsync("api/segment", Uploads.Form(("image", Path.GetFileName(path), File.ReadAllBytes(path))));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static BinaryMask Mask(string base64) => ImageIO.LoadMask(Convert.FromBase64String(base64), "mask_png");

    [Fact]
    public async Task TheApiAnswersWhatTheLibraryAnswers()
    {
        var json = await SegmentOverHttp(Sample);
        var expected = served.Segmenter.Segment(Sample);
        Assert.Equal(expected.Width, json.GetProperty("width").GetInt32());
        Assert.Equal(expected.Height, json.GetProperty("height").GetInt32());
        Assert.Equal(expected.Score, json.GetProperty("score").GetSingle());
        Assert.Equal(expected.IsAnomalous, json.GetProperty("anomalous").GetBoolean());
        Assert.Equal(expected.AnomalyFraction, json.GetProperty("anomaly_fraction").GetDouble(), 12);
        Assert.Equal(expected.Text, json.GetProperty("answer").GetString());
        Assert.Equal(expected.Mask.Data, Mask(json.GetProperty("mask_png").GetString()!).Data);
    }

    [Fact]
    public async Task ThePageShowsTheApisMaskInARealBrowser()
    {
        Assert.True(File.Exists(Chromium), $"no Chromium at {Chromium}: install Debian's chromium (apt-get install -y chromium; .ci/run does) or set AGVAS_CHROMIUM");
        var api = await SegmentOverHttp(Sample);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = Environment.IsPrivilegedProcess ? ["--no-sandbox"] : [],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 1000 } });
        var consoleErrors = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") consoleErrors.Add($"{message.Text} ({message.Location})"); };
        var outside = new List<string>();
        page.Request += (_, request) => { if (!request.Url.StartsWith(served.Host.BaseAddress.ToString()) && !request.Url.StartsWith("data:") && !request.Url.StartsWith("blob:")) outside.Add(request.Url); };
        await page.GotoAsync(served.Host.BaseAddress.ToString());
        await Assertions.Expect(page.Locator("#health")).ToContainTextAsync("ready");

        // Upload the sample as a user picks it, and wait for its overlay.
        await page.Locator("#file-input").SetInputFilesAsync(Sample);
        var card = page.Locator(".card").First;
        await Assertions.Expect(card).ToHaveAttributeAsync("data-state", "done", new LocatorAssertionsToHaveAttributeOptions { Timeout = 180_000 });
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('.card .overlay, .card .mask')].every(i => i.complete && i.naturalWidth > 0)");

        // The mask shown is the API's, at the image's size; the facts are the API's.
        var shown = await card.Locator("img.mask").GetAttributeAsync("src");
        Assert.StartsWith("data:image/png;base64,", shown);
        Assert.Equal(Mask(api.GetProperty("mask_png").GetString()!).Data, Mask(shown!["data:image/png;base64,".Length..]).Data);
        Assert.Equal(api.GetProperty("width").GetInt32(), await card.Locator("img.mask").EvaluateAsync<int>("i => i.naturalWidth"));
        Assert.Equal(api.GetProperty("height").GetInt32(), await card.Locator("img.overlay").EvaluateAsync<int>("i => i.naturalHeight"));
        await Assertions.Expect(card.Locator(".score")).ToHaveTextAsync(api.GetProperty("score").GetDouble().ToString("F3", System.Globalization.CultureInfo.InvariantCulture));
        await Assertions.Expect(card.Locator(".verdict")).ToHaveTextAsync(api.GetProperty("anomalous").GetBoolean() ? "anomalous" : "normal");
        await Assertions.Expect(card.Locator(".answer")).ToHaveTextAsync(api.GetProperty("answer").GetString()!);
        Assert.Equal(shown, await card.Locator("a.download").GetAttributeAsync("href"));
        Assert.Equal("anomaly-1_mask.png", await card.Locator("a.download").GetAttributeAsync("download"));

        // The slider sets the overlay's opacity.
        await page.Locator("#opacity").FillAsync("30");
        await Assertions.Expect(page.Locator("#opacity-value")).ToHaveTextAsync("30 %");
        Assert.Equal("0.3", await card.Locator("img.overlay").EvaluateAsync<string>("i => getComputedStyle(i).opacity"));

        // A file that is not an image shows the server's words on its card.
        await page.Locator("#file-input").SetInputFilesAsync(new FilePayload { Name = "notes.txt", MimeType = "text/plain", Buffer = "not an image"u8.ToArray() });
        var bad = page.Locator(".card").Nth(1);
        await Assertions.Expect(bad).ToHaveAttributeAsync("data-state", "error", new LocatorAssertionsToHaveAttributeOptions { Timeout = 60_000 });
        await Assertions.Expect(bad.Locator(".status")).ToContainTextAsync("Error 400: notes.txt");

        var screenshots = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "screenshots")).FullName;
        var shot = Path.Combine(screenshots, "serve-page.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot, FullPage = true });
        Assert.True(new FileInfo(shot).Length > 10_000, "the screenshot is empty");
        Assert.Empty(outside);
        Assert.All(consoleErrors, e => Assert.Contains("400", e));    // the browser logs the failed upload, nothing else
    }

    [Fact]
    public async Task ThePageScoresTheUploadedSetAsABatch()
    {
        var images = new[] { "samples/images/hazelnut/colour_00.jpg", "samples/images/hazelnut/good_04.jpg" }.Select(Repository.Path).ToArray();
        var response = await served.Host.Client.PostAsync("api/segment/batch",
            Uploads.Form(images.Select(p => ("image", Path.GetFileName(p), File.ReadAllBytes(p))).ToArray()));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var api = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("results").EnumerateArray().ToList();
        Assert.All(api, r => Assert.Equal("batch", r.GetProperty("result").GetProperty("source").GetString()));

        Assert.True(File.Exists(Chromium), $"no Chromium at {Chromium}: install Debian's chromium (apt-get install -y chromium; .ci/run does) or set AGVAS_CHROMIUM");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = Environment.IsPrivilegedProcess ? ["--no-sandbox"] : [],
        });
        var page = await browser.NewPageAsync();
        await page.GotoAsync(served.Host.BaseAddress.ToString());
        // One image picked, one dropped on the drop zone as a file manager would.
        await page.Locator("#file-input").SetInputFilesAsync(images[0]);
        await page.EvaluateAsync(@"([name, base64]) => {
            const bytes = Uint8Array.from(atob(base64), c => c.charCodeAt(0));
            const data = new DataTransfer();
            data.items.add(new File([bytes], name, { type: 'image/jpeg' }));
            document.querySelector('#drop').dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
        }", new[] { Path.GetFileName(images[1]), Convert.ToBase64String(File.ReadAllBytes(images[1])) });
        var cards = page.Locator(".card");
        await Assertions.Expect(cards).ToHaveCountAsync(images.Length);
        await Assertions.Expect(cards.Nth(1).Locator(".name")).ToHaveTextAsync(Path.GetFileName(images[1]));
        for (int i = 0; i < images.Length; i++)
            await Assertions.Expect(cards.Nth(i)).ToHaveAttributeAsync("data-state", "done", new LocatorAssertionsToHaveAttributeOptions { Timeout = 180_000 });
        await page.Locator("#batch").ClickAsync();
        for (int i = 0; i < images.Length; i++)
        {
            await Assertions.Expect(cards.Nth(i).Locator(".source")).ToHaveTextAsync("with the batch (batch)", new LocatorAssertionsToHaveTextOptions { Timeout = 180_000 });
            var shown = await cards.Nth(i).Locator("img.mask").GetAttributeAsync("src");
            Assert.Equal(Mask(api[i].GetProperty("result").GetProperty("mask_png").GetString()!).Data, Mask(shown!["data:image/png;base64,".Length..]).Data);
        }
        await page.ScreenshotAsync(new PageScreenshotOptions
        {
            Path = Path.Combine(Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "screenshots")).FullName, "serve-batch.png"),
            FullPage = true,
        });
    }
}
