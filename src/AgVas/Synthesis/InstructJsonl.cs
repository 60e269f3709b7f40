using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using AgVas.Data;

namespace AgVas.Synthesis;

/// <summary>Anomaly-Instruct records as JSON Lines (one record per line, snake_case, enums as strings).
/// Image and mask paths are stored relative to the JSONL file's folder.</summary>
public static class InstructJsonl
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Curates every sample of a dataset (masks OR-ed by its rule) in parallel; record i uses the stream (seed, i).</summary>
    public static IReadOnlyList<InstructRecord> Curate(IReadOnlyList<Sample> samples, string jsonlPath, ulong seed, int threads,
        IProgress<int>? progress = null)
    {
        string baseDir = Path.GetDirectoryName(Path.GetFullPath(jsonlPath))!;
        var records = new InstructRecord[samples.Count];
        int done = 0;
        try
        {
            Parallel.For(0, samples.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, i => CurateOne(i));
        }
        catch (AggregateException e)
        {
            ExceptionDispatchInfo.Capture(e.Flatten().InnerExceptions[0]).Throw(); // e.g. the DataException naming a bad file
        }
        return records;

        void CurateOne(int i)
        {
            var s = samples[i];
            var image = ImageIO.LoadRgb(s.ImagePath);
            var mask = ImageIO.LoadMasks(s.MaskPaths, s.MaskRule, image.Width, image.Height, s.ImagePath);
            if (s.IsAnomalous && mask.CountPositive() == 0)
                throw new DataException(s.MaskPaths.Count > 0 ? s.MaskPaths[0] : s.ImagePath, "labelled anomalous but its mask is empty");
            records[i] = InstructCurator.Describe(image, mask, s.Category, s.Defect, Relative(baseDir, s.ImagePath),
                s.MaskPaths.Select(m => Relative(baseDir, m)).ToList(), SynthRandom.Derive(seed, i));
            progress?.Report(Interlocked.Increment(ref done));
        }
    }

    private static string Relative(string baseDir, string path) => Path.GetRelativePath(baseDir, path).Replace('\\', '/');

    public static void Write(IEnumerable<InstructRecord> records, string path)
    {
        var sb = new StringBuilder();
        foreach (var r in records) sb.Append(JsonSerializer.Serialize(r, Options)).Append('\n');
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    /// <summary>Reads records back; a bad line is a <see cref="DataException"/> naming the file and line.</summary>
    public static IReadOnlyList<InstructRecord> Read(string path)
    {
        if (!File.Exists(path)) throw new DataException(path, "file not found");
        var list = new List<InstructRecord>();
        int lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                list.Add(JsonSerializer.Deserialize<InstructRecord>(line, Options)
                    ?? throw new DataException(path, $"line {lineNo}: null record"));
            }
            catch (JsonException e)
            {
                throw new DataException(path, $"line {lineNo}: not an Anomaly-Instruct record ({e.Message})", e);
            }
        }
        return list;
    }
}
