using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgVas.Training;

/// <summary>One optimiser step as logged: the mean loss parts over its micro-steps and the speed figures.</summary>
public sealed record StepRecord(int Step, double Lr, LossParts Loss, double GradNorm, double ExamplesPerSecond, double Mfu, double ElapsedSeconds);

/// <summary>
/// The run log <c>train_log.jsonl</c>: one JSON object per line, <c>{"step":…,"lr":…,"loss":…,"text":…,"bce_nor":…,…}</c>
/// for each optimiser step and <c>{"step":…,"validation":{…}}</c> for each validation pass. Lines are appended and
/// flushed as they come, so a killed run keeps its log; a resumed run first drops the lines after its checkpoint.
/// </summary>
public sealed class TrainingLog : IDisposable
{
    public const string FileName = "train_log.jsonl";
    private readonly StreamWriter writer;

    private TrainingLog(string path, StreamWriter writer)
    {
        Path = path;
        this.writer = writer;
    }

    public string Path { get; }

    /// <summary>Opens the log of a run, keeping the lines of steps up to <paramref name="keepThroughStep"/> (the resumed
    /// checkpoint's step; a fresh run passes 0 and starts an empty log).</summary>
    public static TrainingLog Open(string runDir, int keepThroughStep)
    {
        var path = System.IO.Path.Combine(runDir, FileName);
        var kept = File.Exists(path) && keepThroughStep > 0
            ? File.ReadLines(path).Where(l => StepOf(l) is { } s && s <= keepThroughStep).ToList()
            : [];
        AtomicFile.WriteAllText(path, kept.Count == 0 ? "" : string.Join('\n', kept) + "\n");
        var writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false));
        return new TrainingLog(path, writer);
    }

    public void Write(StepRecord r)
    {
        var o = new JsonObject { ["step"] = r.Step, ["lr"] = r.Lr };
        var values = r.Loss.Values;
        for (int i = 0; i < values.Count; i++) o[LossParts.Names[i]] = values[i];
        o["grad_norm"] = r.GradNorm;
        o["examples_per_s"] = r.ExamplesPerSecond;
        o["mfu"] = r.Mfu;
        o["elapsed_s"] = r.ElapsedSeconds;
        Append(o);
    }

    public void WriteValidation(int step, IReadOnlyDictionary<string, double?> metrics)
    {
        var m = new JsonObject();
        foreach (var (k, v) in metrics) m[k] = v;
        Append(new JsonObject { ["step"] = step, ["validation"] = m });
    }

    private void Append(JsonObject o)
    {
        // A non-finite number (a diverged loss, say) is written as null: JSON has no NaN, and the record must not be lost.
        foreach (var (key, value) in o.ToList())
            if (value is JsonValue v && v.TryGetValue<double>(out var d) && !double.IsFinite(d)) o[key] = null;
        writer.Write(o.ToJsonString());
        writer.Write('\n');
        writer.Flush();
    }

    /// <summary>The step records of a log file (validation lines skipped), in file order.</summary>
    public static IReadOnlyList<StepRecord> ReadSteps(string path)
    {
        var records = new List<StepRecord>();
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            var o = JsonNode.Parse(line)!.AsObject();
            if (o.ContainsKey("validation")) continue;
            // A non-finite value was written as null (Append): it reads back as NaN.
            double D(string k) => o[k]?.GetValue<double>() ?? double.NaN;
            // Logs written before hard_bce existed lack it: 0, as their loss had no such term.
            var loss = new LossParts(D("loss"), D("text"), D("bce_nor"), D("bce_ano"), D("bce_seg"), D("dice_nor"), D("dice_ano"), D("dice_seg"),
                o["hard_bce"]?.GetValue<double>() ?? 0);
            records.Add(new StepRecord(o["step"]!.GetValue<int>(), D("lr"), loss, D("grad_norm"), D("examples_per_s"), D("mfu"), D("elapsed_s")));
        }
        return records;
    }

    private static int? StepOf(string line)
    {
        if (string.IsNullOrWhiteSpace(line)) return null;
        try
        {
            return JsonNode.Parse(line)?["step"]?.GetValue<int>();
        }
        catch (JsonException)
        {
            return null; // a line cut by a kill
        }
    }

    public void Dispose() => writer.Dispose();

    internal static string Format(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
}
