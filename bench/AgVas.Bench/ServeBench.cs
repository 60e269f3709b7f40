using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace AgVas.Bench;

/// <summary>
/// Load on <c>agvas serve</c> (#17): starts the server as its own process on a loopback port (the CLI beside this
/// benchmark, with the embedded model), sends N concurrent uploads of a sample image (one burst, every client at once),
/// and reports the status codes (each must be 200 or 429; any other fails the run), p50/p95 latency, and the server's peak
/// RSS (VmHWM). Then a second burst whose clients honour Retry-After until served (all must end 200). Then checks
/// /healthz and stops the server with SIGINT (Ctrl-C), which must exit 0. Everything is bounded by a deadline.
/// Args: [clients=100] [max-queue=16] [deadline seconds=900] [image=samples/images/cookie/anomaly-1.jpg].
/// Figures of a run: docs/serve.md.
/// </summary>
internal static partial class ServeBench
{
    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    private const int SIGINT = 2;

    public static int Run(string[] args)
    {
        int clients = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100;
        int maxQueue = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 16;
        var deadline = TimeSpan.FromSeconds(args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 900);
        string image = args.Length > 3 ? args[3] : FindSample();
        return RunAsync(clients, maxQueue, deadline, image).GetAwaiter().GetResult();
    }

    private static async Task<int> RunAsync(int clients, int maxQueue, TimeSpan deadline, string image)
    {
        using var cancel = new CancellationTokenSource(deadline);
        var cli = Path.Combine(AppContext.BaseDirectory, "AgVas.Cli.dll");
        var start = new ProcessStartInfo("dotnet", ["exec", cli, "serve", "--port", "0", "--max-queue", maxQueue.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        var clock = Stopwatch.StartNew();
        using var server = Process.Start(start) ?? throw new InvalidOperationException("could not start agvas serve");
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new List<string>();
        server.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (output) output.Add(e.Data);
            if (ListeningLine().Match(e.Data) is { Success: true } m) listening.TrySetResult(new Uri(m.Groups[1].Value));
        };
        server.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.Add("stderr: " + e.Data); };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        bool failed = false;
        try
        {
            var url = await listening.Task.WaitAsync(TimeSpan.FromMinutes(3), cancel.Token);
            Console.WriteLine($"agvas serve (pid {server.Id}) up at {url} in {clock.Elapsed.TotalSeconds:F1} s; {Environment.ProcessorCount} cores, " +
                              $"max queue {maxQueue}; idle RSS {Rss(server.Id, "VmRSS"):F0} MiB; {clients} concurrent uploads of {Path.GetFileName(image)} " +
                              $"({new FileInfo(image).Length / 1024} KiB)");
            var bytes = await File.ReadAllBytesAsync(image, cancel.Token);
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients * 2, PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
            {
                BaseAddress = url,
                Timeout = deadline,
            };

            var burst = await Burst(http, bytes, Path.GetFileName(image), clients, retry: false, cancel.Token);
            failed |= Report("burst (no retry)", burst, ok: c => c is HttpStatusCode.OK or HttpStatusCode.TooManyRequests);
            var retried = await Burst(http, bytes, Path.GetFileName(image), clients, retry: true, cancel.Token);
            failed |= Report("burst, clients retry after Retry-After", retried, ok: c => c is HttpStatusCode.OK);

            var health = await http.GetAsync("healthz", cancel.Token);
            Console.WriteLine($"healthz after the bursts: {(int)health.StatusCode} {await health.Content.ReadAsStringAsync(cancel.Token)}");
            failed |= health.StatusCode != HttpStatusCode.OK;
            Console.WriteLine($"server peak RSS (VmHWM): {Rss(server.Id, "VmHWM"):F0} MiB (limit 3072 MiB); RSS now {Rss(server.Id, "VmRSS"):F0} MiB");
            failed |= Rss(server.Id, "VmHWM") > 3072;

            // Ctrl-C with requests in flight: they are answered, then the process exits 0.
            var inflight = Enumerable.Range(0, 3).Select(_ => Upload(http, bytes, Path.GetFileName(image), retry: false, CancellationToken.None)).ToList();
            await Task.Delay(300, cancel.Token);
            var stop = Stopwatch.StartNew();
            if (kill(server.Id, SIGINT) != 0) throw new InvalidOperationException($"kill(SIGINT) failed: errno {Marshal.GetLastPInvokeError()}");
            var answers = await Task.WhenAll(inflight);
            await server.WaitForExitAsync(cancel.Token);
            Console.WriteLine($"SIGINT with {inflight.Count} uploads in flight: answered {string.Join(", ", answers.Select(a => (int)a.Status))}; " +
                              $"exit code {server.ExitCode} after {stop.Elapsed.TotalSeconds:F1} s");
            failed |= server.ExitCode != 0 || answers.Any(a => a.Status is not (HttpStatusCode.OK or HttpStatusCode.TooManyRequests));
        }
        catch (Exception e)
        {
            Console.WriteLine($"FAILED: {e.GetType().Name}: {e.Message}");
            lock (output) Console.WriteLine(string.Join("\n", output.TakeLast(30)));
            failed = true;
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
                server.WaitForExit();
            }
        }
        Console.WriteLine(failed ? "serve bench: FAILED" : $"serve bench: passed in {clock.Elapsed.TotalSeconds:F0} s");
        return failed ? 1 : 0;
    }

    private readonly record struct Answer(HttpStatusCode Status, double Seconds, int Attempts);

    private static async Task<List<Answer>> Burst(HttpClient http, byte[] bytes, string name, int clients, bool retry, CancellationToken cancel)
    {
        using var go = new SemaphoreSlim(0);
        var tasks = Enumerable.Range(0, clients).Select(async _ =>
        {
            await go.WaitAsync(cancel);
            return await Upload(http, bytes, name, retry, cancel);
        }).ToList();
        go.Release(clients);
        return (await Task.WhenAll(tasks)).ToList();
    }

    private static async Task<Answer> Upload(HttpClient http, byte[] bytes, string name, bool retry, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        for (int attempt = 1; ; attempt++)
        {
            using var form = new MultipartFormDataContent { { new ByteArrayContent(bytes), "image", name } };
            using var response = await http.PostAsync("api/segment", form, cancel);
            await response.Content.ReadAsByteArrayAsync(cancel);
            if (!retry || response.StatusCode != HttpStatusCode.TooManyRequests)
                return new Answer(response.StatusCode, clock.Elapsed.TotalSeconds, attempt);
            await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1), cancel);
        }
    }

    /// <summary>Prints the counts by status and the latencies; true when some answer is not acceptable.</summary>
    private static bool Report(string title, List<Answer> answers, Func<HttpStatusCode, bool> ok)
    {
        string Percentiles(IEnumerable<Answer> subset)
        {
            var s = subset.Select(a => a.Seconds).Order().ToArray();
            if (s.Length == 0) return "none";
            double P(double q) => s[Math.Min(s.Length - 1, (int)Math.Ceiling(q * s.Length) - 1)];
            return $"p50 {P(0.50):F2} s, p95 {P(0.95):F2} s, max {s[^1]:F2} s";
        }
        var counts = string.Join(", ", answers.GroupBy(a => (int)a.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} × {g.Key}"));
        Console.WriteLine($"{title}: {counts}; wall {answers.Max(a => a.Seconds):F1} s");
        Console.WriteLine($"  all: {Percentiles(answers)}");
        Console.WriteLine($"  200: {Percentiles(answers.Where(a => a.Status == HttpStatusCode.OK))}");
        if (answers.Any(a => a.Status == HttpStatusCode.TooManyRequests))
            Console.WriteLine($"  429: {Percentiles(answers.Where(a => a.Status == HttpStatusCode.TooManyRequests))}");
        if (answers.Any(a => a.Attempts > 1))
            Console.WriteLine($"  attempts per upload: mean {answers.Average(a => a.Attempts):F1}, max {answers.Max(a => a.Attempts)}");
        var bad = answers.Where(a => !ok(a.Status)).ToList();
        if (bad.Count > 0) Console.WriteLine($"  UNACCEPTABLE: {bad.Count} answer(s) {string.Join(", ", bad.Select(a => (int)a.Status).Distinct())}");
        return bad.Count > 0;
    }

    private static double Rss(int pid, string field)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
        return double.NaN;
    }

    private static string FindSample()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "samples", "images", "cookie", "anomaly-1.jpg");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("samples/images/cookie/anomaly-1.jpg not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"listening on (http://\S+?)/? ")]
    private static partial Regex ListeningLine();
}
