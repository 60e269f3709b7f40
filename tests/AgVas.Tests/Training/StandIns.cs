using System.Text.Json;
using AgVas.Checkpoints;
using AgVas.Data;
using AgVas.Inference;
using AgVas.Modeling;
using AgVas.Text;
using AgVas.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AgVas.Tests.Training;

/// <summary>
/// A small fully convolutional stand-in for AG-VAS in the loop's tests: a frozen stem and a trainable head producing
/// the three anchor logit maps (NOR, ANO, SEG) at <see cref="Size"/>², trained with the same per-anchor BCE + Dice
/// form as AG-VAS (no text part: its text loss is 0). It exercises everything the loop does to a model —
/// trainable-by-membership, accumulation, clipping, checkpoints, resume, validation, save/load — in seconds.
/// </summary>
internal sealed class TinyConvSegmenter : Module<Tensor, Tensor>, ITrainableModel, ISegmentationModel
{
    public const int Size = 32;
    private const int StemChannels = 8, HeadChannels = 16;

    private readonly Conv2d stem;
    private readonly Sequential head;

    public TinyConvSegmenter(long initSeed) : base(nameof(TinyConvSegmenter))
    {
        using var generatorScope = NewDisposeScope();
        manual_seed(initSeed);
        stem = Conv2d(3, StemChannels, 3, padding: 1);
        head = Sequential(Conv2d(StemChannels, HeadChannels, 3, padding: 1), ReLU(), Conv2d(HeadChannels, 3, 1));
        RegisterComponents();
        foreach (var p in stem.parameters()) p.requires_grad = false;
    }

    public nn.Module Module => this;

    /// <summary>The head's parameters: membership of the head module, not a name pattern.</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> TrainableParameters() =>
        head.named_parameters().Select(p => ($"head.{p.name}", p.parameter)).ToList();

    /// <param name="x">[B, 3, S, S] normalised images</param>
    /// <returns>[B, 3, S, S] logits (NOR, ANO, SEG)</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return head.forward(functional.relu(stem.forward(x))).MoveToOuterDisposeScope();
    }

    /// <summary>Conv MACs per pixel × 2 FLOPs × 3 (forward + backward).</summary>
    public double TrainingFlopsPerExample => 3.0 * 2 * Size * Size * (3 * StemChannels * 9 + StemChannels * HeadChannels * 9 + HeadChannels * 3);

    public TrainingLoss Loss(IReadOnlyList<LoadedExample> batch, LossWeights weights)
    {
        using var scope = NewDisposeScope();
        var x = stack(batch.Select(e => ImageTensor(e.Image)).ToArray());                      // [B, 3, S, S]
        var m = stack(batch.Select(e => MaskTensor(e.Mask)).ToArray());                        // [B, S, S]
        var logits = forward(x);                                                                // [B, 3, S, S]
        var mf = m.flatten(1);                                                                  // [B, SS]
        var seg = logits[.., 2].flatten(1);                                                     // [B, SS]
        var rel = logits[.., 0..2].log_softmax(1).flatten(2);                                   // [B, 2, SS]
        var logNor = rel[.., 0];                                                                // [B, SS]
        var logAno = rel[.., 1];                                                                // [B, SS]
        var bceSeg = functional.binary_cross_entropy_with_logits(seg, mf);
        var bceAno = (-(mf * logAno + (1 - mf) * logNor)).mean();
        var bceNor = bceAno;
        var diceSeg = Dice(seg.sigmoid(), mf);
        var diceAno = Dice(logAno.exp(), mf);
        var diceNor = Dice(logNor.exp(), 1 - mf);
        var total = (bceSeg + bceAno + bceNor) * weights.BceWeight + (diceSeg + diceAno + diceNor) * weights.DiceWeight;
        double V(Tensor t) => t.item<float>();
        var parts = new LossParts(V(total), 0, V(bceNor), V(bceAno), V(bceSeg), V(diceNor), V(diceAno), V(diceSeg));
        return new TrainingLoss(total.MoveToOuterDisposeScope(), parts);
    }

    private static Tensor Dice(Tensor p, Tensor m) =>
        (1 - ((p * m).sum([1]) * 2 + 1e-6) / (p.sum([1]) + m.sum([1]) + 1e-6)).mean();

    public Prediction Predict(RgbImage image, InstructionType mode)
    {
        using var guard = no_grad();
        using var scope = NewDisposeScope();
        var logits = forward(ImageTensor(image).unsqueeze(0));                                  // [1, 3, S, S]
        var probs = cat([logits[.., 0..2].softmax(1), logits[.., 2..3].sigmoid()], dim: 1);    // [1, 3, S, S]
        var full = functional.interpolate(probs, [image.Height, image.Width], mode: InterpolationMode.Bilinear, align_corners: false); // [1, 3, H, W]
        float[] Channel(int c) => full[0, c].contiguous().data<float>().ToArray();
        return Prediction.FromAnchorMaps(image.Width, image.Height, Channel(2), Channel(0), Channel(1), "Sure, it is [NOR] [ANO] [SEG].", false, mode);
    }

    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        SafeTensors.Write(Path.Combine(directory, "model.safetensors"), state_dict());
        AtomicFile.WriteAllText(Path.Combine(directory, "config.json"), JsonSerializer.Serialize(new { model = nameof(TinyConvSegmenter), size = Size }));
    }

    public static TinyConvSegmenter Load(string directory)
    {
        var model = new TinyConvSegmenter(0);
        using var source = TensorSource.Open(Path.Combine(directory, "model.safetensors"));
        using var guard = no_grad();
        foreach (var (name, tensor) in model.state_dict())
        {
            using var loaded = source.Load(name);
            tensor.copy_(loaded);
        }
        model.eval();
        return model;
    }

    /// <summary>[3, S, S] image scaled to [-1, 1] (bilinear resize).</summary>
    private static Tensor ImageTensor(RgbImage image)
    {
        using var scope = NewDisposeScope();
        var t = tensor(image.Pixels, ScalarType.Byte).view(image.Height, image.Width, 3).permute(2, 0, 1).to(ScalarType.Float32); // [3, H, W]
        t = functional.interpolate(t.unsqueeze(0), [Size, Size], mode: InterpolationMode.Bilinear, align_corners: false)[0];        // [3, S, S]
        return (t / 127.5 - 1).MoveToOuterDisposeScope();
    }

    /// <summary>[S, S] mask in {0, 1} (nearest resize).</summary>
    private static Tensor MaskTensor(BinaryMask mask)
    {
        using var scope = NewDisposeScope();
        var t = tensor(mask.Data).view(1, 1, mask.Height, mask.Width).to(ScalarType.Float32);                                       // [1, 1, H, W]
        return functional.interpolate(t, [Size, Size], mode: InterpolationMode.Nearest)[0, 0].MoveToOuterDisposeScope();           // [S, S]
    }
}

/// <summary>Deterministic synthetic images: uniform colour noise; anomalous ones carry a flat grey rectangle (the mask).</summary>
internal sealed class BlobSource(int count, int size, ulong seed, double normalRatio = 0.3)
{
    public int Count => count;

    public (RgbImage Image, BinaryMask Mask) Load(int index)
    {
        var rng = new Random((int)(StreamRandom.Mix(seed, index) & int.MaxValue));
        var pixels = new byte[size * size * 3];
        rng.NextBytes(pixels);
        var mask = new bool[size * size];
        bool anomalous = rng.NextDouble() >= normalRatio;
        if (anomalous)
        {
            // A flat patch in noise: its mean brightness is the background's, so only a learned local-contrast detector finds it.
            int w = size / 5 + rng.Next(size / 4), h = size / 5 + rng.Next(size / 4);
            int x0 = rng.Next(size - w), y0 = rng.Next(size - h);
            for (int y = y0; y < y0 + h; y++)
                for (int x = x0; x < x0 + w; x++)
                {
                    mask[y * size + x] = true;
                    for (int c = 0; c < 3; c++) pixels[(y * size + x) * 3 + c] = 128;
                }
        }
        return (new RgbImage(size, size, pixels), new BinaryMask(size, size, mask));
    }

    /// <summary>Writes the items as an MVTec-style category folder (test/good, test/blob, ground_truth/blob); returns the category folder.</summary>
    public string WriteMvtec(string root)
    {
        var category = Path.Combine(root, "blobs");
        for (int i = 0; i < count; i++)
        {
            var item = Load(i);
            bool anomalous = item.Mask.Data.Any(v => v);
            var name = $"{i:D3}.png";
            ImageIO.SaveRgbPng(item.Image, Path.Combine(category, "test", anomalous ? "blob" : "good", name));
            if (anomalous) ImageIO.SaveMaskPng(item.Mask, Path.Combine(category, "ground_truth", "blob", $"{i:D3}_mask.png"));
        }
        return category;
    }
}
