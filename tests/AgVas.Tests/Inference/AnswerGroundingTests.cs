using System.Text.Json;
using System.Text.RegularExpressions;
using AgVas.Data;
using AgVas.Evaluation;
using AgVas.Inference;
using AgVas.Modeling;
using AgVas.Synthesis;
using AgVas.Text;
using CsCheck;

namespace AgVas.Tests.Inference;

/// <summary>The answer beside a mask agrees with it (<see cref="AnswerGrounding"/>, <see cref="AnswerAgreement"/>,
/// <see cref="MaskFacts"/>), on predictions built without a model.</summary>
public class AnswerGroundingTests
{
    private const int W = 100, H = 100;

    /// <summary>The README's failure: the tiny model's describe-mode answer, whatever its mask.</summary>
    private const string ModelAnswer =
        "There is a small roundish dent in the bottom of the image. It is darker than the surrounding surface, and covers less than 1% of the image. " +
        "Anomaly found: a small roundish dent, darker than the surrounding surface, in the bottom of the image. [NOR] [ANO] [SEG]";

    private static readonly InstructionType[] Modes = Enum.GetValues<InstructionType>();

    private static BinaryMask Rects(int w, int h, params (int X, int Y, int W, int H)[] rects)
    {
        var m = new BinaryMask(w, h);
        foreach (var (x0, y0, rw, rh) in rects)
            for (int y = Math.Max(0, y0); y < Math.Min(h, y0 + rh); y++)
                for (int x = Math.Max(0, x0); x < Math.Min(w, x0 + rw); x++) m.Data[y * w + x] = true;
        return m;
    }

    /// <summary>30×40 px in the bottom-right cell of a 100×100 image: 12 % of it.</summary>
    private static BinaryMask TwelvePercentBottomRight() => Rects(W, H, (68, 58, 30, 40));

    private static Prediction Predict(BinaryMask mask, string text, InstructionType mode = InstructionType.DescribeThenSegment)
    {
        var map = mask.Data.Select(v => v ? 0.9f : 0.1f).ToArray();
        return new Prediction(mask.Width, mask.Height, map, map.Select(v => 1 - v).ToArray(), map, map, mask, text, false, mode);
    }

    private static int Count(string text, string part) => Regex.Matches(text, Regex.Escape(part)).Count;

    /// <summary>The anchors once, where the training answers of the mode have them.</summary>
    private static void AssertAnchors(string text, InstructionType mode)
    {
        Assert.Equal(1, Count(text, Anchors.Suffix));
        foreach (var anchor in Anchors.Tokens) Assert.Equal(1, Count(text, anchor));
        if (mode is InstructionType.DirectSegmentation or InstructionType.SegmentThenExplain)
            Assert.StartsWith(Conversations.DirectAnswer + " ", text);
        else Assert.EndsWith(" " + Anchors.Suffix, text);
    }

    [Fact]
    public void AnEmptyMaskGetsANormalAnswerInEveryMode()
    {
        foreach (var mode in Modes)
        {
            var p = Predict(new BinaryMask(W, H), ModelAnswer, mode);
            Assert.Equal(Verdict.Normal, p.Facts.Verdict);
            Assert.Equal((0, 0.0, 0, null, null), (p.Facts.AnomalyPixels, p.Facts.AreaFraction, p.Facts.RegionCount, p.Facts.Size, p.Facts.Location));
            Assert.DoesNotContain("Anomaly found", p.Text);
            Assert.DoesNotContain("dent", p.Text);
            Assert.DoesNotContain("of the image", p.Text.Replace("the image is normal", ""));
            Assert.Contains(AnswerGrounding.NormalStatement, p.Text);
            AssertAnchors(p.Text, mode);
            Assert.Equal(ModelAnswer, p.RawText);
            Assert.True(AnswerAgreement.Check(p.Text, p.Mask).IsComplete(p.Facts));
        }
        // A raw answer that already says "normal" is kept as the model wrote it.
        const string normal = "The hazelnut is normal; there is no anomaly. [NOR] [ANO] [SEG]";
        Assert.Equal(normal, Predict(new BinaryMask(W, H), normal).Text);
    }

    [Fact]
    public void ATwelvePercentMaskBottomRightIsDescribedAsLargeBottomRight()
    {
        var p = Predict(TwelvePercentBottomRight(), ModelAnswer);
        Assert.Equal(Verdict.Anomalous, p.Facts.Verdict);
        Assert.Equal(0.12, p.Facts.AreaFraction, 12);
        Assert.Equal(SizeClass.Large, p.Facts.Size);
        Assert.Equal("bottom right", p.Facts.Location);
        Assert.Equal(1, p.Facts.RegionCount);
        Assert.Equal(ShapeClass.Round, p.Facts.Shape); // a 3:4 rectangle: compact, not elongated
        Assert.Equal(
            "There is a large roundish dent in the bottom right of the image. It is darker than the surrounding surface, and covers about 12% of the image. " +
            "Anomaly found: a large roundish dent, darker than the surrounding surface, in the bottom right of the image. [NOR] [ANO] [SEG]", p.Text);
        // The contradicting claims are gone; the model's words for what the mask cannot tell (a dent, darker) stay.
        foreach (var gone in new[] { "less than 1%", "a small", "in the bottom of the image" }) Assert.DoesNotContain(gone, p.Text);
        Assert.Contains("dent", p.Text);
        Assert.Contains("darker than the surrounding surface", p.Text);
        Assert.True(AnswerAgreement.Check(p.Text, p.Facts).IsComplete(p.Facts));
    }

    [Fact]
    public void SentencesSayingNormalAreDroppedBesideAnAnomalousMask()
    {
        var mask = TwelvePercentBottomRight();
        foreach (var mode in Modes)
        {
            var p = Predict(mask, "Sure, it is [NOR] [ANO] [SEG]. No region differs in brightness, colour, texture or shape from the rest of the scene, so the anomaly mask is empty.", mode);
            Assert.DoesNotContain("empty", p.Text);
            Assert.Contains("Anomaly found: a large roundish spot in the bottom right of the image, covering about 12% of the image.", p.Text);
            AssertAnchors(p.Text, mode);
        }
        // A truncated, anchor-forced answer with a duplicated anchor and a location in the object's frame.
        var forced = Predict(mask, "There is a small roundish hole in the bottom of the image, on the upper part of the scene. It is darker than the surrounding surface, with a smoother, flatter texture than the surface, [NOR]  [NOR] [ANO] [SEG]");
        Assert.Equal("There is a large roundish hole in the bottom right of the image. It is darker than the surrounding surface, with a smoother, " +
            "flatter texture than the surface. [NOR] [ANO] [SEG]", forced.Text);
    }

    [Fact]
    public void ShapeAndRegionStatementsFollowTheMask()
    {
        // Two thin vertical lines: line-like, two regions, left of the image.
        var lines = Rects(W, H, (10, 30, 2, 40), (20, 30, 2, 40));
        var p = Predict(lines, "Sure, it is [NOR] [ANO] [SEG]. The anomalous area forms a single connected region centred in the centre of the image, covering about 5% of the image. " +
            "Compared with the surface around it, its outline is compact and roughly round.", InstructionType.SegmentThenExplain);
        Assert.Equal((ShapeClass.LineLike, "vertical", 2), (p.Facts.Shape, p.Facts.Geometry!.Orientation, p.Facts.RegionCount));
        Assert.Contains("forms two separate regions centred in the left of the image, covering about 2% of the image", p.Text);
        Assert.Contains("its shape is thin and stretched (vertical", p.Text);
        Assert.True(AnswerAgreement.Check(p.Text, p.Facts).IsComplete(p.Facts));
    }

    /// <summary>The checker flags the README's failures and accepts their corrections.</summary>
    [Fact]
    public void TheCheckerFlagsTheReadmeFailures()
    {
        var empty = AnswerAgreement.Check(ModelAnswer, new BinaryMask(W, H));
        Assert.False(empty.Agrees);
        Assert.False(empty.AgreesOn(AnswerAspect.Verdict));
        Assert.Contains(empty.Conflicts, c => c.Aspect == AnswerAspect.Verdict && c.Statement == "Anomaly found");
        Assert.False(empty.AgreesOn(AnswerAspect.Location));
        Assert.False(empty.AgreesOn(AnswerAspect.Size));

        var twelve = AnswerAgreement.Check(ModelAnswer, TwelvePercentBottomRight());
        Assert.True(twelve.AgreesOn(AnswerAspect.Verdict));
        Assert.Contains(twelve.Conflicts, c => c.Aspect == AnswerAspect.Size && c.Statement == "less than 1% of the image");
        Assert.Contains(twelve.Conflicts, c => c.Aspect == AnswerAspect.Size && c.Statement == "a small");
        Assert.Contains(twelve.Conflicts, c => c.Aspect == AnswerAspect.Location && c.Statement == "the bottom of the image" && c.Mask == "bottom right");
        Assert.True(twelve.AgreesOn(AnswerAspect.Shape));

        // A normal verdict beside a mask, a wrong coverage, and what agrees.
        var mask = TwelvePercentBottomRight();
        Assert.False(AnswerAgreement.Check("This hazelnut is defect-free. [NOR] [ANO] [SEG]", mask).AgreesOn(AnswerAspect.Verdict));
        Assert.False(AnswerAgreement.Check("It covers about 3% of the image.", mask).Agrees);
        Assert.True(AnswerAgreement.Check("It covers about 12% of the image, in the bottom-right of the image.", mask).Agrees);
        Assert.True(AnswerAgreement.Check("No anomaly was found: the image is normal.", new BinaryMask(W, H)).IsComplete(MaskFacts.Of(new BinaryMask(W, H))));
        // Saying nothing contradicts nothing, but is not complete.
        var direct = AnswerAgreement.Check(Conversations.DirectAnswer, mask);
        Assert.True(direct.Agrees);
        Assert.False(direct.IsComplete(MaskFacts.Of(mask)));
    }

    /// <summary>The facts are the training answers' attributes: <see cref="MaskAttributes.Compute"/> on the same mask.</summary>
    [Fact]
    public void FactsAreTheCuratorsAttributes()
    {
        Gen.Select(Gen.Int[0, 4], Gen.Int[1, 40], Gen.Int[1, 40], Gen.ULong, (k, w, h, seed) => (k, w, h, seed)).Sample(t =>
        {
            var mask = RandomMask(t.k + 1, t.w, t.h, t.seed);
            var a = MaskAttributes.Compute(Flat(), mask);
            var f = MaskFacts.Of(mask);
            Assert.Equal((a.AreaFraction, a.Size, a.RegionCount, a.ImageLocation, a.Shape, a.Orientation),
                (f.AreaFraction, f.Size!.Value, f.RegionCount, f.Location!, f.Shape!.Value, f.Geometry!.Orientation));
        }, iter: 100);
    }

    /// <summary>Every curated training answer agrees with its mask by the checker (so the checker's vocabulary is the
    /// curator's), and an answer that already agrees is kept word for word.</summary>
    [Fact]
    public void CuratedAnswersAgreeAndAreKeptAsTheyAre()
    {
        Gen.Select(Gen.Int[0, 4], Gen.Int[1, 40], Gen.Int[1, 40], Gen.ULong, (k, w, h, seed) => (k, w, h, seed)).Sample(t =>
        {
            var mask = RandomMask(t.k, t.w, t.h, t.seed);
            var r = InstructCurator.Describe(Flat(), mask, "hazelnut", null, "x.png", [], t.seed);
            var facts = MaskFacts.Of(mask);
            foreach (var text in new[] { r.Observation, r.Diagnosis, r.Summary, r.Explanation })
                Assert.True(AnswerAgreement.Check(text, facts).Agrees, $"{text} | {string.Join("; ", AnswerAgreement.Check(text, facts).Conflicts)}");
            foreach (var mode in Modes)
            {
                var raw = CuratedAnswer(r, mode);
                var p = Predict(mask, raw, mode);
                if (mode != InstructionType.DirectSegmentation) Assert.Equal(raw, p.Text);
            }
        }, iter: 150);
    }

    /// <summary>Whatever the model wrote, in whatever mode, the final answer agrees with the mask and states its verdict,
    /// location and size; the anchors appear once where the mode has them.</summary>
    [Fact]
    public void TheFinalAnswerAlwaysAgrees()
    {
        Gen.Select(Gen.Int[0, 5], Gen.Int[1, 50], Gen.Int[1, 50], Gen.ULong, Gen.ULong, Gen.Int[0, 3], Gen.Int[0, 5],
            (k, w, h, seed, textSeed, mode, mangle) => (k, w, h, seed, textSeed, mode, mangle)).Sample(t =>
        {
            var mask = RandomMask(t.k, t.w, t.h, t.seed);
            var mode = Modes[t.mode];
            var raw = RandomModelText(t.textSeed, mode, t.mangle);
            var p = Predict(mask, raw, mode);
            var check = AnswerAgreement.Check(p.Text, p.Facts);
            Assert.True(check.IsComplete(p.Facts), $"raw: {raw}\nfinal: {p.Text}\n{string.Join("; ", check.Conflicts)}");
            AssertAnchors(p.Text, mode);
            if (!p.IsAnomalous) Assert.DoesNotContain("Anomaly found", p.Text);
        }, iter: 400);
    }

    [Fact]
    public void TheSummaryCountsRawAndFinalAgreement()
    {
        var empty = new BinaryMask(W, H);
        var twelve = TwelvePercentBottomRight();
        var ps = new[] { Predict(empty, ModelAnswer), Predict(twelve, ModelAnswer), Predict(twelve, "Sure, it is [NOR] [ANO] [SEG].", InstructionType.DirectSegmentation) };
        var records = ps.Select((p, i) => PredictionRecord.Of($"{i}.png", p)).Append(PredictionRecord.Failed("x.png", "unreadable")).ToList();
        var s = AnswerAgreementSummary.Of(records);
        Assert.Equal((3, 1, 3), (s.Answers, s.RawAgreeing, s.FinalAgreeing));
        Assert.Equal(1.0, s.FinalRate);
        Assert.Equal(2.0 / 3, s.RawRateOn(AnswerAspect.Verdict)!.Value, 12);
        Assert.Equal(1.0 / 3, s.RawRateOn(AnswerAspect.Location)!.Value, 12);

        using var json = JsonDocument.Parse(records[1].ToJson());
        var o = json.RootElement;
        Assert.Equal("anomalous", o.GetProperty("verdict").GetString());
        Assert.Equal("large", o.GetProperty("size_class").GetString());
        Assert.Equal("bottom right", o.GetProperty("location").GetString());
        Assert.Equal(1, o.GetProperty("region_count").GetInt32());
        Assert.Equal(ModelAnswer, o.GetProperty("raw_text").GetString());
        Assert.Equal(new[] { "location", "size" }, o.GetProperty("raw_text_conflicts").EnumerateArray().Select(e => e.GetString()).ToArray());
        using var normal = JsonDocument.Parse(records[0].ToJson());
        Assert.Equal("normal", normal.RootElement.GetProperty("verdict").GetString());
        Assert.Equal(JsonValueKind.Null, normal.RootElement.GetProperty("size_class").ValueKind);
    }

    /// <summary><c>agvas test</c>'s report carries the agreement of the raw and final answers.</summary>
    [Fact]
    public void TheTestReportGivesTheAgreementRates()
    {
        var dir = Directory.CreateTempSubdirectory("agvas-answers-").FullName;
        try
        {
            var data = Path.Combine(dir, "data");
            new AgVas.Tests.Training.BlobSource(6, 32, 5).WriteMvtec(data);
            var samples = Datasets.Load(data);
            using var segmenter = new AnomalySegmenter(new FixedAnswerModel(ModelAnswer));
            var result = ModelTester.Run(segmenter, samples, Path.Combine(dir, "out"));
            Assert.Equal(1.0, result.Predictions.Answers.FinalRate);
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "out", ReportWriter.JsonFile)));
            var answers = json.RootElement.GetProperty("answers");
            Assert.Equal(samples.Count, answers.GetProperty("n_answers").GetInt32());
            Assert.Equal(1.0, answers.GetProperty("final_agreement").GetDouble());
            Assert.True(answers.GetProperty("raw_agreement").GetDouble() < 1); // the fixed answer contradicts some masks
            Assert.True(answers.GetProperty("raw_agreement_by_aspect").TryGetProperty("location", out _));
            var md = File.ReadAllText(Path.Combine(dir, "out", ReportWriter.MarkdownFile));
            Assert.Contains($"final answers 100.0 % ({samples.Count}/{samples.Count})", md);
            Assert.Equal(ReportWriter.ToCsv(result.Report), File.ReadAllText(Path.Combine(dir, "out", ReportWriter.CsvFile)));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>A stand-in model: the mask is the image's bright pixels, the answer always the same.</summary>
    private sealed class FixedAnswerModel(string text) : ISegmentationModel
    {
        public Prediction Predict(RgbImage image, InstructionType mode)
        {
            var map = new float[image.Width * image.Height];
            for (int i = 0; i < map.Length; i++) map[i] = (image.Pixels[3 * i] + image.Pixels[3 * i + 1] + image.Pixels[3 * i + 2]) / (3 * 255f);
            return Prediction.FromAnchorMaps(image.Width, image.Height, map, map.Select(v => 1 - v).ToArray(), map, text, false, mode, new AgVas.Modeling.AgmdConfig(Threshold: 0.9, SeedThreshold: 0.9));
        }
    }

    private static RgbImage Flat() => new(W, H, Enumerable.Repeat((byte)128, W * H * 3).ToArray());

    /// <summary>k rectangles of up to w×h px at seeded places (k = 0: an empty mask).</summary>
    private static BinaryMask RandomMask(int k, int w, int h, ulong seed)
    {
        var rng = new Random((int)(seed % int.MaxValue));
        var rects = Enumerable.Range(0, k).Select(_ =>
        {
            int rw = rng.Next(1, w + 1), rh = rng.Next(1, h + 1);
            return (rng.Next(1 - rw, W), rng.Next(1 - rh, H), rw, rh); // at least one pixel inside
        }).ToArray();
        return Rects(W, H, rects);
    }

    /// <summary>The answer training teaches for <paramref name="mode"/> (<see cref="Conversations.Build"/>'s composition).</summary>
    private static string CuratedAnswer(InstructRecord r, InstructionType mode) => mode switch
    {
        InstructionType.DirectSegmentation => Conversations.DirectAnswer,
        InstructionType.DescribeThenSegment => $"{r.Observation} {r.Summary}",
        InstructionType.DescribeThenSegmentPlus => $"{r.Observation} {r.Diagnosis} {r.Summary}",
        _ => $"{Conversations.DirectAnswer} {r.Explanation}",
    };

    /// <summary>What a small model writes: a curated answer for some other mask (or a normal one), possibly cut short
    /// with the anchors forced, with doubled anchors, mixed with another answer, or with the anchors missing.</summary>
    private static string RandomModelText(ulong seed, InstructionType mode, int mangle)
    {
        var rng = new Random((int)(seed % int.MaxValue));
        string Curated()
        {
            var other = RandomMask(rng.Next(0, 4), rng.Next(1, 60), rng.Next(1, 60), (ulong)rng.NextInt64());
            return CuratedAnswer(InstructCurator.Describe(Flat(), other, "hazelnut", rng.Next(2) == 0 ? null : "crack", "x.png", [], (ulong)rng.NextInt64()), mode);
        }
        var text = Curated();
        return mangle switch
        {
            0 => text,
            1 => text[..rng.Next(0, text.Length)] + " " + Anchors.Suffix,
            2 => text.Replace(Anchors.Suffix, "[NOR]  " + Anchors.Suffix),
            3 => text.Replace(Anchors.Suffix, "") + " " + Curated(),
            4 => text.Replace(Anchors.Suffix, ""),
            _ => "",
        };
    }
}
