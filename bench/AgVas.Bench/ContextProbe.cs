using AgVas.Context;
using AgVas.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Bench;

/// <summary>Probe: context maps of a dataset into a prediction directory (map .npy, mask at a distance threshold).
/// Usage: context-probe data out batch|fewshot size M [lowest fraction [agvasPredDir]] (batch only: the interval fraction,
/// default 0.3, and a prediction dir whose masks exclude each reference's own marked patches, <see cref="PatchDescriptors.WithExcluded"/>)</summary>
internal static class ContextProbe
{
    public static int Run(string[] args)
    {
        var samples = Datasets.Load(args[0]);
        string outDir = args[1], mode = args[2];
        int size = int.Parse(args[3]), m = int.Parse(args[4]);
        double fraction = args.Length > 5 && args[5] != "-" ? double.Parse(args[5], System.Globalization.CultureInfo.InvariantCulture) : new MutualScoringConfig().LowestFraction;
        string? maskDir = args.Length > 6 ? args[6] : null;
        var dc = new PatchDescriptorConfig(size);
        var groups = samples.GroupBy(s => s.Category).ToList();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var excluded = new HashSet<string>();
        var relative = samples.ToDictionary(s => s.ImagePath, s => s.RelativePath);
        if (mode != "batch")
        {
            foreach (var g in groups) if (g.OrderBy(s => s.RelativePath, StringComparer.Ordinal).FirstOrDefault(s => !s.IsAnomalous) is { } r) excluded.Add(r.ImagePath);
            Directory.CreateDirectory(outDir);
            var lines = new List<string> { "source,category,label,image,mask,mask_rule" };
            foreach (var s in samples.Where(s => !excluded.Contains(s.ImagePath)))
                lines.Add(string.Join(",", s.Source ?? "", s.Category, s.IsAnomalous ? "anomalous" : "normal", Q(s.ImagePath), Q(string.Join(";", s.MaskPaths)), s.MaskRule == MaskRule.GreaterThanZero ? "gt0" : "ge128"));
            File.WriteAllLines(Path.Combine(outDir, "scored.csv"), lines);
            relative = Datasets.Load(Path.Combine(outDir, "scored.csv")).ToDictionary(s => s.ImagePath, s => s.RelativePath);
        }
        foreach (var g in groups)
        {
            var list = g.OrderBy(s => s.RelativePath, StringComparer.Ordinal).ToList();
            void Write(Sample s, PatchDescriptors d, Tensor scores)
            {
                using var map = d.ToImage(scores, size);
                var data = map.contiguous().data<float>().ToArray();
                Npy.Write(Inference.PredictionFiles.MapPath(outDir, relative[s.ImagePath]), NpyArray.FromSingle(data, d.ImageHeight, d.ImageWidth));
                var mask = new BinaryMask(d.ImageWidth, d.ImageHeight);
                for (int i = 0; i < data.Length; i++) mask.Data[i] = data[i] > 0.6f;
                ImageIO.SaveMaskPng(mask, Inference.PredictionFiles.MaskPath(outDir, relative[s.ImagePath]));
            }
            PatchDescriptors Describe(Sample s)
            {
                var d = PatchDescriptors.Compute(ImageIO.LoadRgb(s.ImagePath), dc);
                return maskDir is null ? d : d.WithExcluded(ImageIO.LoadMask(Inference.PredictionFiles.MaskPath(maskDir, s.RelativePath)), size);
            }
            if (mode == "batch")
            {
                MutualScoring.ScoreCategory(list.Count, k => Describe(list[k]),
                    (k, d, scores) => Write(list[k], d, scores), new MutualScoringConfig(m, fraction));
            }
            else
            {
                var reference = list.FirstOrDefault(s => !s.IsAnomalous);
                if (reference is null)
                {
                    Console.WriteLine($"{g.Key}: no normal, batch fallback");
                    MutualScoring.ScoreCategory(list.Count, k => Describe(list[k]),
                        (k, d, scores) => Write(list[k], d, scores), new MutualScoringConfig(m, fraction));
                    continue;
                }
                var refImage = ImageIO.LoadRgb(reference.ImagePath);
                var rds = (mode == "fewshot-aug" ? refImage.DihedralViews() : [refImage]).Select(i => PatchDescriptors.Compute(i, dc)).ToList();
                using var memory = NormalMemory.Build(rds, new NormalMemoryConfig());
                foreach (var rd in rds) rd.Dispose();
                foreach (var s in list.Where(s => s != reference))
                {
                    using var d = PatchDescriptors.Compute(ImageIO.LoadRgb(s.ImagePath), dc);
                    using var scores = memory.Score(d);
                    Write(s, d, scores);
                }
            }
            Console.WriteLine($"{g.Key}: {list.Count} images, {sw.Elapsed.TotalSeconds:F1} s");
        }
        Console.WriteLine($"total {sw.Elapsed.TotalSeconds:F1} s");
        return 0;
        static string Q(string s) => "\"" + s.Replace("\"", "\"\"") + "\"";
    }
}

/// <summary>Probe: fuses an AG-VAS prediction dir with a context-probe dir by <see cref="Inference.ContextFusionConfig"/>. fuse-probe data agvasPred ctxPred out w a b [threshold [seed]]</summary>
internal static class FuseProbe
{
    public static int Run(string[] args)
    {
        var samples = Datasets.Load(args[0]);
        string agvas = args[1], ctx = args[2], outDir = args[3];
        var rule = new Inference.ContextFusionConfig(double.Parse(args[4]), double.Parse(args[5]), double.Parse(args[6]),
            args.Length > 7 ? double.Parse(args[7]) : 0.5, args.Length > 8 ? double.Parse(args[8]) : null);
        foreach (var s in samples)
        {
            var p = Npy.ReadSingle(Inference.PredictionFiles.MapPath(agvas, s.RelativePath), out var shape, out _);
            var c = Npy.ReadSingle(Inference.PredictionFiles.MapPath(ctx, s.RelativePath), out _, out _);
            var f = rule.Fuse(p, c);
            var mask = Inference.AnomalyMask.FromMap(f, shape[1], shape[0], rule.Threshold, rule.SeedThreshold);
            Npy.Write(Inference.PredictionFiles.MapPath(outDir, s.RelativePath), NpyArray.FromSingle(f, shape));
            ImageIO.SaveMaskPng(mask, Inference.PredictionFiles.MaskPath(outDir, s.RelativePath));
        }
        return 0;
    }
}
