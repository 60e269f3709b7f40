using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Text;
using AgVas.Data;

namespace AgVas.Synthesis;

/// <summary>One row of an Anomaly-Seg manifest (the columns of the shared <c>dev.csv</c>).</summary>
public sealed record ManifestRow(string Source, string Category, string Defect, bool IsAnomalous, string Image, string? Mask,
    string MaskRule, double MaskFraction)
{
    public const string Header = "source,category,defect,label,image,mask,mask_rule,mask_fg_frac";

    public string ToCsv() => string.Join(',',
        Source, Category, Defect, IsAnomalous ? "anomalous" : "normal", Image, Mask ?? "", MaskRule,
        IsAnomalous ? MaskFraction.ToString("0.#####", CultureInfo.InvariantCulture) : "");
}

/// <summary>Writes synthesized samples in the MVTec AD layout — <c>&lt;out&gt;/&lt;category&gt;/test/{good,&lt;defect&gt;}/NNNN.png</c>
/// and <c>&lt;out&gt;/&lt;category&gt;/ground_truth/&lt;defect&gt;/NNNN_mask.png</c> — plus <c>manifest.csv</c> (paths relative to
/// <c>&lt;out&gt;</c>). NNNN is the global sample index, so files never collide and any thread count writes the same bytes.</summary>
public static class AnomalySegWriter
{
    /// <summary>The "source" column of synthesized rows.</summary>
    public const string SourceName = "synth";

    /// <summary>Files written concurrently: each output file is fsync-ed (<see cref="AtomicFile"/>), which waits on the
    /// disk rather than the CPU, so writing overlaps with generation on separate threads.</summary>
    public const int WriterThreads = 8;

    /// <summary>Generates samples 0..count-1 on up to <paramref name="threads"/> threads and writes them (PNG encoding and
    /// the atomic writes run on <see cref="WriterThreads"/> writer threads fed through a small bounded queue, so memory
    /// stays flat); returns the rows in index order and writes <c>manifest.csv</c> last.
    /// <paramref name="onSample"/> (optional, called concurrently) sees each sample after it is written.</summary>
    public static IReadOnlyList<ManifestRow> Write(AnomalySynthesizer synthesizer, int count, string outDir, int threads,
        IProgress<int>? progress = null, Action<SynthSample>? onSample = null, CancellationToken cancel = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Directory.CreateDirectory(outDir);
        var rows = new ManifestRow[count];
        int digits = Math.Max(4, (count - 1).ToString(CultureInfo.InvariantCulture).Length);
        string format = new('0', digits);
        int done = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        using var queue = new BlockingCollection<SynthSample>(boundedCapacity: 2 * WriterThreads);
        var writers = Enumerable.Range(0, WriterThreads).Select(_ => Task.Factory.StartNew(() =>
        {
            try
            {
                foreach (var sample in queue.GetConsumingEnumerable(stop.Token))
                {
                    int i = (int)sample.Index;
                    rows[i] = WriteSample(sample, outDir, i.ToString(format, CultureInfo.InvariantCulture));
                    onSample?.Invoke(sample);
                    progress?.Report(Interlocked.Increment(ref done));
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
            catch
            {
                stop.Cancel(); // unblock the producers and the other writers
                throw;
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        try
        {
            var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads), CancellationToken = stop.Token };
            Parallel.For(0, count, options, i => queue.Add(synthesizer.Generate(i), stop.Token));
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested) { } // a writer failed: its error is rethrown below
        catch (AggregateException e)
        {
            // A generation error (e.g. an unreadable normal image): stop the writers, surface the first cause as is.
            stop.Cancel();
            ExceptionDispatchInfo.Capture(e.Flatten().InnerExceptions[0]).Throw();
        }
        finally
        {
            queue.CompleteAdding();
            try { Task.WaitAll(writers); }
            catch (AggregateException e) { ExceptionDispatchInfo.Capture(e.Flatten().InnerExceptions[0]).Throw(); }
        }
        cancel.ThrowIfCancellationRequested();
        var csv = new StringBuilder(ManifestRow.Header).Append('\n');
        foreach (var row in rows) csv.Append(row.ToCsv()).Append('\n');
        AtomicFile.WriteAllText(Path.Combine(outDir, "manifest.csv"), csv.ToString());
        return rows;
    }

    private static ManifestRow WriteSample(SynthSample sample, string outDir, string stem)
    {
        string image = $"{sample.Category}/test/{sample.Defect}/{stem}.png";
        ImageIO.SaveRgbPng(sample.Image, Path.Combine(outDir, image), PngCompression.Fast);
        string? mask = null;
        int positive = 0;
        if (sample.IsAnomalous)
        {
            mask = $"{sample.Category}/ground_truth/{sample.Defect}/{stem}_mask.png";
            ImageIO.SaveMaskPng(sample.Mask, Path.Combine(outDir, mask), PngCompression.Fast);
            positive = MaskOps.Count(sample.Mask.Data);
        }
        return new ManifestRow(SourceName, sample.Category, sample.Defect, sample.IsAnomalous, image, mask, "gt0",
            (double)positive / sample.Mask.Data.Length);
    }
}
