using System.Net;
using AgVas.Inference;
using AgVas.Server;

namespace AgVas.Tests.Server;

/// <summary>Stopping <c>agvas serve</c> (what Ctrl-C does: the host's StopAsync) finishes the requests in flight, on a
/// real Kestrel socket.</summary>
public sealed class ServeShutdownTests
{
    [Fact]
    public async Task StoppingWaitsForTheRequestsInFlightAndAnswersThem()
    {
        var model = new GatedModel();
        model.Gate.Reset();
        using var segmenter = new AnomalySegmenter(model, ownsModel: false);
        var host = await ServeHost.Loopback(segmenter, ownsSegmenter: false, new ServeOptions(Workers: 1, MaxQueue: 2, ShutdownSeconds: 60));
        try
        {
            var first = host.Client.PostAsync("api/segment", Uploads.Form(("image", "1.png", Uploads.Png())));
            Assert.True(await model.Started.WaitAsync(TimeSpan.FromSeconds(30)), "the request never reached the model");
            var second = host.Client.PostAsync("api/segment", Uploads.Form(("image", "2.png", Uploads.Png())));
            for (int i = 0; i < 300 && host.Pool.Admitted < 2; i++) await Task.Delay(20);

            var stopping = host.App.StopAsync();
            await Task.Delay(500);
            Assert.False(stopping.IsCompleted, "the server stopped with requests in flight");
            model.Gate.Set();
            Assert.Equal(HttpStatusCode.OK, (await first).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await second).StatusCode);
            await stopping.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.False(host.Pool.IsRunning);
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => host.Client.GetAsync("healthz"));
        }
        finally
        {
            model.Gate.Set();
            await host.DisposeAsync();
        }
    }
}
