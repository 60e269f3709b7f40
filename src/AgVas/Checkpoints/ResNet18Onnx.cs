using AgVas.Modeling;
using Google.Protobuf;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Checkpoints;

/// <summary>
/// Reads the ImageNet ResNet-18 of NuGet's <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> 0.24.0 (MIT; a CNTK 2.6
/// export, ONNX opset 8) into <see cref="ResNet18"/>, and its preprocessing graph into <see cref="ResNetPreprocess"/>.
/// The package's build props copy <c>DnnImageModels/</c> into the output folder of every project that references it
/// (the library references it with PrivateAssets none, so its users get the files too). The files are never copied
/// into the repository.
/// <para>
/// Initializer names are opaque (<c>Parameter10</c>, …), so the map to ResNet-18's layers comes from graph order:
/// the i-th Conv node is the i-th conv of <see cref="ResNet18.ConvsInGraphOrder"/> (a strided block's 1×1 shortcut
/// precedes its 3×3 convs), and the BatchNormalization node that reads a Conv's output is folded into it. Every shape,
/// kernel, stride and pad is checked against the module, so a different graph fails loudly instead of loading wrongly.
/// The stored pads are CNTK's auto-padding resolved for 224² (see <see cref="ResNet18"/> for why the module pads
/// symmetrically).
/// </para>
/// </summary>
public static class ResNet18Onnx
{
    public const string PackageId = "Microsoft.ML.DnnImageFeaturizer.ResNet18";
    public const string PackageVersion = "0.24.0";
    public const string ModelRelativePath = "DnnImageModels/ResNet18Onnx/ResNet18.onnx";
    public const string PreprocessRelativePath = "DnnImageModels/ResNetPrepOnnx/ResNetPreprocess.onnx";

    private static readonly Lazy<(ResNet18, ResNetPreprocess)> shared = new(() =>
    {
        // Whatever dispose scope the first caller is in, the shared tensors must outlive it.
        var model = LoadModel(Locate(ModelRelativePath));
        foreach (var p in model.parameters()) p.DetachFromDisposeScope();
        var preprocess = LoadPreprocess(Locate(PreprocessRelativePath));
        preprocess.MeanImage.DetachFromDisposeScope();
        return (model, preprocess);
    });

    /// <summary>The backbone and its preprocessing, loaded once per process from the package (thread-safe).</summary>
    public static (ResNet18 Model, ResNetPreprocess Preprocess) Shared => shared.Value;

    private static string PackageName => $"NuGet package {PackageId} {PackageVersion}";

    /// <summary>Finds a file of the package: next to the program (the package's build props put it there), else in
    /// the NuGet global packages folder ($NUGET_PACKAGES or ~/.nuget/packages). Throws naming both places.</summary>
    public static string Locate(string relativePath)
    {
        var beside = Path.Combine(AppContext.BaseDirectory, relativePath);
        if (File.Exists(beside)) return beside;
        var root = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } env ? env
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var inCache = Path.Combine(root, PackageId.ToLowerInvariant(), PackageVersion, "tools", relativePath);
        if (File.Exists(inCache)) return inCache;
        throw new CheckpointException(beside,
            $"missing: the pretrained ResNet-18 comes from the {PackageName} (reference it, or restore so that {inCache} exists)");
    }

    /// <summary>Parses an ONNX file; a truncated or corrupt file is a <see cref="CheckpointException"/> naming it and the package.</summary>
    public static ModelProto ReadModel(string path)
    {
        if (!File.Exists(path)) throw new CheckpointException(path, $"missing; it comes from the {PackageName}");
        try
        {
            using var stream = File.OpenRead(path);
            var model = ModelProto.Parser.ParseFrom(stream);
            if (model.Graph is null || model.Graph.Node.Count == 0) throw new CheckpointException(path, $"not an ONNX model (no graph); expected the file of the {PackageName}");
            return model;
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new CheckpointException(path, $"truncated or corrupt ONNX file ({e.Message}); restore the {PackageName} again", e);
        }
        catch (IOException e)
        {
            throw new CheckpointException(path, $"unreadable ({e.Message}); it comes from the {PackageName}", e);
        }
    }

    /// <summary>Builds <see cref="ResNet18"/> from the package's ResNet18.onnx (BN folded into the convs).</summary>
    public static ResNet18 LoadModel(string path)
    {
        var graph = ReadModel(path).Graph;
        var initializers = graph.Initializer.ToDictionary(t => t.Name);
        var consumers = graph.Node.SelectMany(n => n.Input.Select(i => (Input: i, Node: n))).ToLookup(p => p.Input, p => p.Node);
        var convNodes = graph.Node.Where(n => n.OpType == "Conv").ToList();
        var net = new ResNet18();
        var convs = net.ConvsInGraphOrder();
        if (convNodes.Count != convs.Count)
            throw new CheckpointException(path, $"has {convNodes.Count} Conv nodes, ResNet-18 has {convs.Count}; not the {PackageName} graph");
        using var guard = no_grad();
        for (int i = 0; i < convs.Count; i++)
        {
            var (name, conv) = convs[i];
            var node = convNodes[i];
            string where = $"Conv node '{node.Name}' (#{i}, {name})";
            var w = Initializer(path, initializers, node.Input.ElementAtOrDefault(1), where);                   // [C_out, C_in, k, k]
            if (!w.shape.SequenceEqual(conv.weight!.shape))
                throw new CheckpointException(path, $"{where}: weight is [{string.Join(", ", w.shape)}], expected [{string.Join(", ", conv.weight!.shape)}]");
            long k = w.shape[2], stride = Ints(node, "strides").FirstOrDefault(1);
            var pads = Ints(node, "pads");
            long[] expectedPads = name == "conv1" ? [3, 3, 2, 2] : k == 1 ? [0, 0, 0, 0] : stride == 2 ? [1, 1, 0, 0] : [1, 1, 1, 1];
            if (!pads.SequenceEqual(expectedPads) || Ints(node, "strides").Any(s => s != stride) || conv.stride[0] != stride)
                throw new CheckpointException(path, $"{where}: strides {stride}, pads [{string.Join(",", pads)}] differ from ResNet-18's");
            var bnNode = consumers[node.Output[0]].SingleOrDefault(n => n.OpType == "BatchNormalization")
                ?? throw new CheckpointException(path, $"{where}: no BatchNormalization reads its output");
            double eps = bnNode.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5;
            string bnWhere = $"BatchNormalization node '{bnNode.Name}' ({name})";
            var gamma = Initializer(path, initializers, bnNode.Input.ElementAtOrDefault(1), bnWhere);             // [C_out]
            var beta = Initializer(path, initializers, bnNode.Input.ElementAtOrDefault(2), bnWhere);              // [C_out]
            var mean = Initializer(path, initializers, bnNode.Input.ElementAtOrDefault(3), bnWhere);              // [C_out]
            var variance = Initializer(path, initializers, bnNode.Input.ElementAtOrDefault(4), bnWhere);          // [C_out]
            foreach (var (what, t) in new[] { ("scale", gamma), ("bias", beta), ("mean", mean), ("var", variance) })
                if (t.ndim != 1 || t.shape[0] != w.shape[0])
                    throw new CheckpointException(path, $"{bnWhere}: {what} is [{string.Join(", ", t.shape)}], expected [{w.shape[0]}]");
            // BN(conv(x)) = s·(W*x − μ) + β with s = γ/√(σ² + ε): W' = s·W, b' = β − s·μ (in float64, then float32).
            using Scalar epsilon = eps;
            var s = gamma.to(float64) / variance.to(float64).add(epsilon, Scalars.One).sqrt();                   // [C_out]
            conv.weight!.copy_((w.to(float64) * s.view(-1, 1, 1, 1)).to(float32));
            conv.bias!.copy_(beta.to(float64).Minus(s * mean.to(float64)).to(float32));
        }
        return net;
    }

    /// <summary>Reads the mean image of the package's ResNetPreprocess.onnx (checking that the graph is Split → Concat(B, G, R) → Sub).</summary>
    public static ResNetPreprocess LoadPreprocess(string path)
    {
        var graph = ReadModel(path).Graph;
        var ops = string.Join(" → ", graph.Node.Select(n => n.OpType));
        if (ops != "Split → Concat → Sub")
            throw new CheckpointException(path, $"preprocessing graph is {ops}, expected Split → Concat → Sub; not the {PackageName} graph");
        var concat = graph.Node[1];
        var split = graph.Node[0];
        if (!concat.Input.SequenceEqual([split.Output[2], split.Output[1], split.Output[0]]))
            throw new CheckpointException(path, "preprocessing does not reorder RGB to BGR");
        var initializers = graph.Initializer.ToDictionary(t => t.Name);
        var mean = Initializer(path, initializers, graph.Node[2].Input.ElementAtOrDefault(1), "Sub node (mean image)"); // [1, 3, 224, 224]
        if (mean.ndim != 4 || mean.shape[1] != 3)
            throw new CheckpointException(path, $"mean image is [{string.Join(", ", mean.shape)}], expected [1, 3, h, w]");
        return new ResNetPreprocess(mean);
    }

    private static long[] Ints(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name)?.Ints.ToArray() ?? [];

    private static Tensor Initializer(string path, Dictionary<string, TensorProto> initializers, string? name, string where)
    {
        if (name is null || !initializers.TryGetValue(name, out var t))
            throw new CheckpointException(path, $"{where}: initializer '{name}' is missing");
        if (t.DataType != (int)TensorProto.Types.DataType.Float)
            throw new CheckpointException(path, $"{where}: initializer '{name}' has data type {t.DataType}, expected float");
        var shape = t.Dims.ToArray();
        long count = shape.Aggregate(1L, (a, b) => a * b);
        float[] values;
        if (t.FloatData.Count > 0) values = t.FloatData.ToArray();
        else if (t.RawData.Length > 0) values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray();
        else values = [];
        if (values.Length != count)
            throw new CheckpointException(path, $"{where}: initializer '{name}' holds {values.Length} values for shape [{string.Join(", ", shape)}]");
        return torch.tensor(values).reshape(shape);
    }
}
