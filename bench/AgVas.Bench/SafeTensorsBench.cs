using System.Diagnostics;
using AgVas.Checkpoints;
using static TorchSharp.torch;

namespace AgVas.Bench;

/// <summary>Write and read throughput of sharded safetensors checkpoints, and the memory a full load costs beyond
/// the tensors themselves (reading goes straight into each tensor's storage, so it should be near zero).</summary>
internal static class SafeTensorsBench
{
    public static int Run(string[] args)
    {
        int megabytes = args.Length > 0 ? int.Parse(args[0]) : 512;
        var directory = args.Length > 1 ? args[1] : Path.Combine(Path.GetTempPath(), $"agvas-st-bench-{Environment.ProcessId}");
        bool keep = args.Length > 1;
        const int tensorMegabytes = 16;
        int count = Math.Max(1, megabytes / tensorMegabytes);
        long bytes = (long)count * tensorMegabytes << 20;
        try
        {
            var tensors = new List<KeyValuePair<string, Tensor>>();
            for (int i = 0; i < count; i++)
                tensors.Add(new($"layers.{i}.weight", i % 2 == 0
                    ? randn([tensorMegabytes << 18])                           // float32, 16 MB
                    : randn([tensorMegabytes << 19]).to(ScalarType.BFloat16))); // bfloat16, 16 MB
            using var proc = Process.GetCurrentProcess();
            var cpu0 = proc.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            var files = SafeTensors.WriteSharded(directory, tensors, maxShardBytes: 256L << 20);
            double write = sw.Elapsed.TotalSeconds;
            proc.Refresh();
            double writeCpu = (proc.TotalProcessorTime - cpu0).TotalSeconds;
            foreach (var (_, t) in tensors) t.Dispose();

            proc.Refresh();
            var cpu1 = proc.TotalProcessorTime;
            long rssBefore = proc.WorkingSet64;
            sw.Restart();
            var loaded = new List<Tensor>();
            using (var source = TensorSource.Open(directory))
                foreach (var name in source.Names) loaded.Add(source.Load(name));
            double read = sw.Elapsed.TotalSeconds;
            proc.Refresh();
            double readCpu = (proc.TotalProcessorTime - cpu1).TotalSeconds;
            long overhead = proc.WorkingSet64 - rssBefore - bytes;
            foreach (var t in loaded) t.Dispose();

            Console.WriteLine($"{count} tensors, {bytes >> 20} MB in {files.Count - 1} shards + index");
            Console.WriteLine($"write: {write:F2} s ({(bytes >> 20) / write:F0} MB/s, fsync per file), CPU {writeCpu:F2} s");
            Console.WriteLine($"read:  {read:F2} s ({(bytes >> 20) / read:F0} MB/s, page cache warm), CPU {readCpu:F2} s");
            Console.WriteLine($"load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} on {Environment.ProcessorCount} cores: wall times are contended");
            Console.WriteLine($"resident growth beyond the tensors' own bytes: {overhead / (1 << 20)} MB");
            return 0;
        }
        finally
        {
            if (!keep && Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }
}
