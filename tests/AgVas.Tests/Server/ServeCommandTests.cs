using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using AgVas.Tests.Training;

namespace AgVas.Tests.Server;

/// <summary><c>agvas serve</c> as a user runs it: its own process prints the URL, and Ctrl-C (SIGINT) with uploads in
/// flight answers them and exits 0 (System.CommandLine must leave SIGINT to the web host).</summary>
[Collection(SerialTrainingCollection.Name)]
public sealed partial class ServeCommandTests
{
    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    [GeneratedRegex(@"listening on (http://\S+?)/? ")]
    private static partial Regex Listening();

    [SkippableFact]
    public async Task CtrlCAnswersTheUploadsInFlightAndExitsZero()
    {
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "SIGINT is POSIX");
        var start = new ProcessStartInfo("dotnet", ["exec", Path.Combine(AppContext.BaseDirectory, "AgVas.Cli.dll"), "serve", "--port", "0", "--workers", "1"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Repository.Root,
        };
        using var server = Process.Start(start)!;
        var output = new List<string>();
        var url = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (output) output.Add(e.Data);
            if (Listening().Match(e.Data) is { Success: true } m) url.TrySetResult(new Uri(m.Groups[1].Value + "/"));
        };
        server.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.Add(e.Data); };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        try
        {
            var baseAddress = await url.Task.WaitAsync(TimeSpan.FromMinutes(2));
            Assert.Equal("127.0.0.1", baseAddress.Host);
            using var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(3) };
            var sample = File.ReadAllBytes(Repository.Path("samples/images/hazelnut/good_04.jpg"));
            var uploads = Enumerable.Range(0, 2)
                .Select(i => http.PostAsync("api/segment", Uploads.Form(("image", $"good_{i}.jpg", sample))))
                .ToList();
            for (int i = 0; i < 600; i++)
            {
                var health = await http.GetFromJsonAsync<JsonElement>("healthz");
                if (health.GetProperty("running").GetInt32() > 0 && health.GetProperty("admitted").GetInt32() == 2) break;
                await Task.Delay(25);
            }

            Assert.Equal(0, kill(server.Id, 2));
            foreach (var upload in uploads) Assert.Equal(HttpStatusCode.OK, (await upload).StatusCode);
            await server.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
            Assert.Equal(0, server.ExitCode);
            server.WaitForExit();    // flushes the redirected output
            lock (output) Assert.Contains(output, line => line.Contains("agvas serve: stopped"));
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            lock (output) throw new Exception($"{e.Message}\n--- agvas serve said:\n{string.Join("\n", output)}", e);
        }
        finally
        {
            if (!server.HasExited) server.Kill(entireProcessTree: true);
        }
    }
}
