using AgVas.Training;

namespace AgVas.Tests.Training;

public class TrainingConfigTests
{
    private const string Valid = """
        model:
          preset: tiny
        data:
          sources:
            - synth: { count: 50, size: 64, normal_ratio: 0.3, kinds: [lesion, Colour-Spot], artifact_ratio: 0.25 }
            - path: data/mvtec
              pool: instruct
              instruct: data/instruct.jsonl
          pool_ratios: { anomaly_seg: 0.5, instruct: 0.5, general: 0 }
          instruction_ratios: { direct_segmentation: 2, segment_then_explain: 0 }
          validation: { synth: { count: 8, size: 64, seed_offset: 1000 } }
        optim:
          lr: 1e-3
          warmup_steps: 5
          betas: [0.9, 0.99]
          weight_decay: 0.01
          grad_clip: 0.5
          batch_size: 4
          grad_accum: 2
          ema_decay: 0.99
        loss: { bce_weight: 2.0, dice_weight: 0.5, hard_bce_weight: 0.25 }
        output: { dir: runs/x, checkpoint_every: 10, validate_every: 20, save: full }
        steps: 40
        seed: 7
        """;

    [Fact]
    public void BindsEveryKey()
    {
        var c = TrainingConfigLoader.Parse(Valid, "t.yaml");
        Assert.Equal("tiny", c.Model.Preset);
        Assert.Equal(2, c.Data.Sources.Count);
        Assert.Equal(50, c.Data.Sources[0].Synth!.Count);
        Assert.Equal(0.3, c.Data.Sources[0].Synth!.NormalRatio);
        Assert.Equal(["lesion", "Colour-Spot"], c.Data.Sources[0].Synth!.Kinds);
        Assert.Equal(0.25, c.Data.Sources[0].Synth!.ArtifactRatio);
        Assert.Equal("anomaly_seg", c.Data.Sources[0].Pool);
        Assert.Equal("data/mvtec", c.Data.Sources[1].Path);
        Assert.Equal("instruct", c.Data.Sources[1].Pool);
        Assert.Equal("data/instruct.jsonl", c.Data.Sources[1].Instruct);
        Assert.Equal(0.5, c.Data.PoolRatios.Instruct);
        Assert.Equal(0.0, c.Data.PoolRatios.General);
        Assert.Equal(0.15, c.Data.PoolRatios.Normal);
        Assert.Equal(2.0, c.Data.InstructionRatios.DirectSegmentation);
        Assert.Equal(0.0, c.Data.InstructionRatios.SegmentThenExplain);
        Assert.Equal(1.0, c.Data.InstructionRatios.DescribeThenSegment);
        Assert.Equal(1000UL, c.Data.Validation!.Synth!.SeedOffset);
        Assert.Equal(1e-3, c.Optim.Lr);
        Assert.Equal(5, c.Optim.WarmupSteps);
        Assert.Equal([0.9, 0.99], c.Optim.Betas);
        Assert.Equal(0.01, c.Optim.WeightDecay);
        Assert.Equal(0.5, c.Optim.GradClip);
        Assert.Equal(4, c.Optim.BatchSize);
        Assert.Equal(2, c.Optim.GradAccum);
        Assert.Equal(0.99, c.Optim.EmaDecay);
        Assert.Equal(2.0, c.Loss.BceWeight);
        Assert.Equal(0.5, c.Loss.DiceWeight);
        Assert.Equal(0.25, c.Loss.HardBceWeight);
        Assert.Equal(1.0, c.Loss.TextWeight);
        Assert.Equal(CheckpointContent.Full, c.Output.Save);
        Assert.Equal(10, c.Output.CheckpointEvery);
        Assert.Equal(20, c.Output.ValidateEvery);
        Assert.Equal(40, c.Steps);
        Assert.Equal(7UL, c.Seed);
    }

    [Fact]
    public void DefaultsAreThePapers()
    {
        var c = TrainingConfigLoader.Parse("data: { sources: [ { path: x } ] }", "d.yaml");
        Assert.Equal(3e-4, c.Optim.Lr);
        Assert.Equal(100, c.Optim.WarmupSteps);
        Assert.Equal([0.9, 0.95], c.Optim.Betas);
        Assert.Equal(1.0, c.Optim.GradClip);
        Assert.Equal(0.5, c.Loss.BceWeight);
        Assert.Equal(2.0, c.Loss.DiceWeight);
        Assert.Equal(0.0, c.Loss.HardBceWeight);
        Assert.Equal(0.0, c.Optim.EmaDecay);
        Assert.Null(c.Data.Sources[0].Synth);
        Assert.Equal(CheckpointContent.Trainable, c.Output.Save);
    }

    [Theory]
    [InlineData("model: { preset: tiny }", true)]
    [InlineData("model: { preset: tiny, trainable: paper }", false)]
    [InlineData("model: { base: some/dir }", false)]
    [InlineData("model: { base: some/dir, trainable: all }", true)]
    public void FreshPresetsTrainEverythingAndBasesThePapersSet(string model, bool everything)
    {
        var c = TrainingConfigLoader.Parse(model + "\ndata: { sources: [ { path: x } ] }", "m.yaml");
        Assert.Equal(everything, c.Model.TrainsEverything);
    }

    [Theory]
    [InlineData("optim:\n  lrr: 1\n", "line 2", "unknown key 'optim.lrr'", "warmup_steps")]
    [InlineData("stepz: 3\n", "line 1", "unknown key 'stepz'", "steps")]
    [InlineData("data:\n  sources:\n    - path: x\n      pol: normal\n", "line 4", "unknown key 'data.sources[0].pol'", "pool")]
    public void UnknownKeyNamesFileLineKeyAndKnownKeys(string yaml, string line, string problem, string known)
    {
        var e = Assert.Throws<ConfigException>(() => TrainingConfigLoader.Parse(yaml, "conf/run.yaml"));
        Assert.StartsWith("conf/run.yaml: ", e.Message);
        Assert.Contains(line, e.Message);
        Assert.Contains(problem, e.Message);
        Assert.Contains(known, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("data: { sources: [ { path: x } ] }\noptim:\n  lr: fast\n", "optim.lr")]
    [InlineData("data: { sources: [ { path: x } ] }\nsteps: many\n", "steps")]
    [InlineData("data: { sources: [ { path: x } ] }\noutput: { save: half }\n", "output.save")]
    public void BadTypeNamesTheKey(string yaml, string key)
    {
        var e = Assert.Throws<ConfigException>(() => TrainingConfigLoader.Parse(yaml, "run.yaml"));
        Assert.StartsWith("run.yaml: line ", e.Message);
        Assert.Contains(key, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("optim: { lr: -1 }", "optim.lr: must be positive")]
    [InlineData("optim: { batch_size: 0 }", "optim.batch_size: must be positive")]
    [InlineData("optim: { betas: [0.9] }", "optim.betas: must be two values")]
    [InlineData("steps: 0", "steps: must be positive")]
    [InlineData("model: { trainable: most }", "model.trainable: must be paper or all, got 'most'")]
    [InlineData("model: { input_size: 256 }", "model.input_size: needs model.base")]
    [InlineData("model: { base: m, input_size: 300 }", "model.input_size: needs model.base and a positive multiple of 32")]
    [InlineData("output: { keep_checkpoints: 0 }", "output.keep_checkpoints: must be >= 1")]
    [InlineData("loss: { dice_weight: -2 }", "loss.dice_weight: must be >= 0")]
    [InlineData("loss: { hard_bce_weight: -1 }", "loss.hard_bce_weight: must be >= 0")]
    [InlineData("optim: { ema_decay: 1 }", "optim.ema_decay: must be 0 (off) or in (0, 1), got 1")]
    [InlineData("data: { sources: [ { synth: { count: 5, artifact_ratio: 1.5 } } ] }", "data.sources[0].synth.artifact_ratio: must be in [0, 1], got 1.5")]
    [InlineData("data: { sources: [ { synth: { count: 5, kinds: [lesion, smudge] } } ] }", "data.sources[0].synth.kinds: unknown anomaly kind 'smudge' (known: texture_blend,")]
    [InlineData("data: { sources: [ { path: x, pool: extra } ] }", "data.sources[0].pool: unknown pool 'extra'")]
    [InlineData("data: { sources: [ { path: x } ], pool_ratios: { anomaly_seg: 0 } }", "data.pool_ratios: every pool that has a source has ratio 0")]
    public void BadValueNamesTheKey(string extra, string problem)
    {
        var yaml = extra.StartsWith("data:") ? extra : "data: { sources: [ { path: x } ] }\n" + extra;
        var e = Assert.Throws<ConfigException>(() => TrainingConfigLoader.Parse(yaml, "run.yaml"));
        Assert.StartsWith("run.yaml: ", e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void SynthKindsRestrictTheDefectsOfTheSynthesizedSource()
    {
        var dir = Directory.CreateTempSubdirectory("agvas-kinds-").FullName;
        try
        {
            var config = new SynthSourceConfig { Count = 8, Size = 48, NormalRatio = 0.25, Kinds = ["lesion"] };
            var samples = TrainingSetup.Synthesize(config, dir, 3, Path.Combine(dir, "synth"));
            Assert.Equal(8, samples.Count);
            Assert.Contains(samples, s => s.IsAnomalous);
            Assert.All(samples, s => Assert.Equal(s.IsAnomalous ? "lesion" : "good", s.Defect));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void AllInstructionRatiosZeroIsAnError()
    {
        const string yaml = "data:\n  sources: [ { path: x } ]\n  instruction_ratios: { direct_segmentation: 0, describe_then_segment: 0, describe_then_segment_plus: 0, segment_then_explain: 0 }\n";
        Assert.Contains("data.instruction_ratios: all four weights are zero", Assert.Throws<ConfigException>(() => TrainingConfigLoader.Parse(yaml, "r.yaml")).Message);
    }

    [Fact]
    public void NoDataAndBothPathAndSynthAreErrors()
    {
        Assert.Contains("data.sources: no training data", Assert.Throws<ConfigException>(() => TrainingConfigLoader.Parse("steps: 3", "r.yaml")).Message);
        Assert.Contains("data.sources[0]: give exactly one of path or synth",
            Assert.Throws<ConfigException>(() => TrainingConfigLoader.Parse("data: { sources: [ { path: x, synth: { count: 3 } } ] }", "r.yaml")).Message);
        Assert.Contains("empty config", Assert.Throws<ConfigException>(() => TrainingConfigLoader.Parse("", "r.yaml")).Message);
        Assert.Contains("config file not found", Assert.Throws<ConfigException>(() => TrainingConfigLoader.Load("/nonexistent/r.yaml")).Message);
    }

    [Fact]
    public void ScheduleWarmsUpLinearlyThenDecaysToZero()
    {
        var s = new LearningRateSchedule(1.0, 4, 12);
        Assert.Equal([0.25, 0.5, 0.75, 1.0], Enumerable.Range(0, 4).Select(s.At));
        Assert.Equal(1.0, s.At(4));
        Assert.Equal(0.5, s.At(8), 12);
        Assert.Equal(1.0 / 8, s.At(11), 12);
        Assert.Equal(0.0, s.At(12));
        Assert.Equal(0.5, new LearningRateSchedule(1.0, 0, 2).At(1));
    }
}
