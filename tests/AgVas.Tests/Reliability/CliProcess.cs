using System.Diagnostics;
using AgVas.Cli.Commands;

namespace AgVas.Tests.Reliability;

/// <summary>The CLI as a real child process, for the tests that kill it (SIGKILL) mid-run or run it as parallel pods.</summary>
internal static class CliProcess
{
    /// <summary>Starts <c>dotnet AgVas.Cli.dll args…</c> with its standard output drained (standard error stays readable).</summary>
    /// <param name="environment">extra environment variables, e.g. a Job's completion index</param>
    public static Process Start(string[] args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet", [typeof(PredictCommand).Assembly.Location, .. args])
            { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        return process;
    }

    /// <summary>Runs the CLI until <paramref name="ready"/> holds (polled), then kills the whole process tree with SIGKILL.
    /// Fails if the process ends first or <paramref name="ready"/> does not hold within three minutes.</summary>
    public static void KillWhen(string[] args, Func<bool> ready)
    {
        using var process = Start(args);
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        var clock = Stopwatch.StartNew();
        while (!process.HasExited && !ready())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(3), $"agvas {args[0]}: the kill condition did not hold within 3 minutes");
            Thread.Sleep(2);
        }
        Assert.False(process.HasExited, $"agvas {args[0]} ended before it could be killed");
        process.Kill(entireProcessTree: true); // SIGKILL
        process.WaitForExit();
    }
}
