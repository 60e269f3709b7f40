using System.CommandLine;
using AgVas.Inference;
using AgVas.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AgVas.Cli.Commands;

/// <summary>
/// <c>agvas serve [--model DIR] [--host 127.0.0.1] [--port 8080] [--max-queue N] [--max-upload-mb 20]</c> (#17): the web
/// page and the HTTP API (<see cref="ServeApp"/>) over one loaded model. Prints the URL it listens on; Ctrl-C (or SIGTERM)
/// stops accepting connections, finishes the requests in flight and exits 0.
/// The action is synchronous on purpose: System.CommandLine then leaves SIGINT to the web host, which drains the requests
/// (its own handler would end the process two seconds after Ctrl-C, in the middle of an inference).
/// Exit codes: 0 stopped; 1 the model, the options or the address failed.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var defaults = new ServeOptions();
        var model = new Option<string?>("--model") { Description = "Model directory (default: the embedded model)" };
        var host = new Option<string>("--host") { Description = "Address to bind (0.0.0.0 or :: exposes the server to the network)", DefaultValueFactory = _ => defaults.Host };
        var port = new Option<int>("--port") { Description = "TCP port (0: any free port)", DefaultValueFactory = _ => defaults.Port };
        var maxQueue = new Option<int>("--max-queue") { Description = "Uploads that may wait for a worker; more get 429 with Retry-After", DefaultValueFactory = _ => defaults.MaxQueue };
        var maxUpload = new Option<int>("--max-upload-mb") { Description = "Largest image file in MiB; a larger upload gets 413", DefaultValueFactory = _ => defaults.MaxUploadMb };
        var workers = new Option<int>("--workers") { Description = "Inference workers sharing the model (0: one per core)", DefaultValueFactory = _ => defaults.Workers };
        var maxBatch = new Option<int>("--max-batch") { Description = "Most images in one batch request", DefaultValueFactory = _ => defaults.MaxBatch };
        var shutdown = new Option<int>("--shutdown-seconds") { Description = "How long Ctrl-C waits for the requests in flight", DefaultValueFactory = _ => defaults.ShutdownSeconds };
        var command = new Command("serve", "Serve a web page and an HTTP API that segment uploaded images")
        {
            model, host, port, maxQueue, maxUpload, workers, maxBatch, shutdown,
        };
        command.SetAction(parse => Run(new ServeOptions(parse.GetValue(model), parse.GetRequiredValue(host), parse.GetValue(port),
                parse.GetValue(maxQueue), parse.GetValue(maxUpload), parse.GetValue(workers), parse.GetValue(maxBatch), parse.GetValue(shutdown)),
            parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error));
        return command;
    }

    private static int Run(ServeOptions options, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            options.Validate();
            stdout.WriteLine($"loading {(options.ModelDir ?? "the embedded model")} ...");
            using var segmenter = AnomalySegmenter.LoadOrDefault(options.ModelDir);
            var name = options.ModelDir is null ? $"default ({AnomalySegmenter.DefaultModelPath})" : Path.GetFullPath(options.ModelDir);
            using var app = ServeApp.Build(options, new ModelInfo(segmenter, name));
            app.Start();
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            foreach (var address in addresses)
                stdout.WriteLine($"agvas serve: listening on {address}/ (model {name}, {options.WorkerCount} workers, " +
                                 $"queue {options.MaxQueue}, uploads up to {options.MaxUploadMb} MiB; Ctrl-C stops)");
            stdout.Flush();
            app.Lifetime.ApplicationStopping.Register(() =>
            {
                stdout.WriteLine("agvas serve: stopping; finishing the requests in flight ...");
                stdout.Flush();
            });
            app.WaitForShutdown();
            stdout.WriteLine("agvas serve: stopped");
            return 0;
        }
        catch (Exception e) when (e is AgVasException or ArgumentException or IOException)
        {
            stderr.WriteLine($"error: {e.Message.ReplaceLineEndings(" ")}");
            return PredictCommand.ExitError;
        }
    }
}
