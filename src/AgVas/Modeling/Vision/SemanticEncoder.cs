using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AgVas.Modeling;

/// <summary>
/// Semantic encoder F_s: the SigLIP vision transformer (docs/design.md §3.2). Names follow Hugging Face's <c>SiglipVisionConfig</c>.
/// </summary>
/// <param name="FeatureLayer">
/// Which hidden state feeds the projector, indexed like HF's <c>hidden_states</c> tuple (entry 0 is the embedding output,
/// entry i the output of layer i; negative counts from the end). LLaVA-OneVision uses -1 with strategy "full": the
/// output of the last layer of its (already truncated, 26-layer) tower, all 729 tokens, <b>without</b> the post-layernorm.
/// </param>
public sealed record SemanticEncoderConfig(
    int HiddenSize,
    int IntermediateSize,
    int NumHiddenLayers,
    int NumAttentionHeads,
    int ImageSize,
    int PatchSize,
    int NumChannels = 3,
    double LayerNormEps = 1e-6,
    Activation HiddenAct = Activation.GeluTanh,
    int FeatureLayer = -1)
{
    /// <summary>Side of the patch grid; the valid convolution drops a remainder (384 / 14 → 27).</summary>
    public int GridSize => ImageSize / PatchSize;
    /// <summary>N_s: visual tokens per image.</summary>
    public int NumPatches => GridSize * GridSize;
    /// <summary>How many encoder layers run to produce the selected hidden state.</summary>
    public int LayersUsed => FeatureLayer < 0 ? NumHiddenLayers + 1 + FeatureLayer : FeatureLayer;
}

/// <summary>
/// Semantic encoder F_s (docs/design.md §3.2): the SigLIP vision transformer without pooling head. Parameter names are those of
/// HF's <c>SiglipVisionTransformer</c> (checkpoint prefix <c>vision_tower.vision_model.</c> in LLaVA-OneVision):
/// <c>embeddings.{patch_embedding,position_embedding}</c>, <c>encoder.layers.{i}.*</c>. The post-layernorm is not
/// built: the selected hidden state (<see cref="SemanticEncoderConfig.FeatureLayer"/>) is taken before it.
/// </summary>
public sealed class SemanticEncoder : Module<Tensor, Tensor>
{
    private readonly SiglipEmbeddings embeddings;
    private readonly SiglipEncoder encoder;
    private readonly int layersUsed;

    public SemanticEncoder(SemanticEncoderConfig config) : base(nameof(SemanticEncoder))
    {
        embeddings = new SiglipEmbeddings(config);
        encoder = new SiglipEncoder(config);
        layersUsed = config.LayersUsed;
        RegisterComponents();
    }

    /// <param name="pixelValues">[B, 3, S, S] normalised as SigLIP expects ((x/255 − 0.5)/0.5)</param>
    /// <returns>[B, N_s, C_s] the selected hidden state (N_s = (S/patch)²)</returns>
    public override Tensor forward(Tensor pixelValues)
    {
        using var scope = NewDisposeScope();
        var h = embeddings.forward(pixelValues);     // [B, N_s, C_s]
        h = encoder.Run(h, layersUsed);              // [B, N_s, C_s]
        return h.MoveToOuterDisposeScope();
    }

    public static long ParameterCount(SemanticEncoderConfig c)
    {
        long d = c.HiddenSize;
        long embeddings = d * c.NumChannels * c.PatchSize * c.PatchSize + d + (long)c.NumPatches * d;
        long layer = 2 * Count.LayerNorm(d) + 4 * Count.Linear(d, d) + Count.Linear(d, c.IntermediateSize) + Count.Linear(c.IntermediateSize, d);
        return embeddings + c.NumHiddenLayers * layer;
    }
}

/// <summary>SigLIP patch embedding (conv, stride = patch) plus learned absolute position embedding.</summary>
internal sealed class SiglipEmbeddings : Module<Tensor, Tensor>
{
    private readonly Conv2d patch_embedding;
    private readonly Embedding position_embedding;

    public SiglipEmbeddings(SemanticEncoderConfig c) : base(nameof(SiglipEmbeddings))
    {
        patch_embedding = nn.Conv2d(c.NumChannels, c.HiddenSize, c.PatchSize, stride: c.PatchSize);
        position_embedding = nn.Embedding(c.NumPatches, c.HiddenSize);
        RegisterComponents();
    }

    /// <param name="x">[B, 3, S, S]</param>
    /// <returns>[B, N_s, C_s]</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var p = patch_embedding.forward(x);            // [B, C_s, S/p, S/p]
        p = p.flatten(2).transpose(1, 2);              // [B, N_s, C_s]
        var pos = position_embedding.weight!.unsqueeze(0); // [1, N_s, C_s]
        return p.Plus(pos).MoveToOuterDisposeScope();
    }
}

internal sealed class SiglipEncoder : Module<Tensor, Tensor>
{
    private readonly ModuleList<SiglipEncoderLayer> layers = new();

    public SiglipEncoder(SemanticEncoderConfig c) : base(nameof(SiglipEncoder))
    {
        for (int i = 0; i < c.NumHiddenLayers; i++) layers.Add(new SiglipEncoderLayer(c));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => Run(x, layers.Count);

    /// <summary>Runs the first <paramref name="count"/> layers. x: [B, N_s, C_s] → [B, N_s, C_s].</summary>
    public Tensor Run(Tensor x, int count)
    {
        using var scope = NewDisposeScope();
        var h = x.alias();
        for (int i = 0; i < count; i++) h = layers[i].forward(h);
        return h.MoveToOuterDisposeScope();
    }
}

/// <summary>Pre-norm block: x + attn(ln1(x)), then + mlp(ln2(x)).</summary>
internal sealed class SiglipEncoderLayer : Module<Tensor, Tensor>
{
    private readonly LayerNorm layer_norm1;
    private readonly MultiHeadAttention self_attn;
    private readonly LayerNorm layer_norm2;
    private readonly SiglipMlp mlp;

    public SiglipEncoderLayer(SemanticEncoderConfig c) : base(nameof(SiglipEncoderLayer))
    {
        layer_norm1 = nn.LayerNorm(c.HiddenSize, c.LayerNormEps);
        self_attn = new MultiHeadAttention(c.HiddenSize, c.NumAttentionHeads);
        layer_norm2 = nn.LayerNorm(c.HiddenSize, c.LayerNormEps);
        mlp = new SiglipMlp(c);
        RegisterComponents();
    }

    /// <param name="x">[B, N, C]</param>
    /// <returns>[B, N, C]</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var normed = layer_norm1.forward(x);
        var h = x.Plus(self_attn.forward(normed, normed, normed)); // [B, N, C]
        h = h.Plus(mlp.forward(layer_norm2.forward(h)));        // [B, N, C]
        return h.MoveToOuterDisposeScope();
    }
}

internal sealed class SiglipMlp : Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly Activation act;

    public SiglipMlp(SemanticEncoderConfig c) : base(nameof(SiglipMlp))
    {
        fc1 = nn.Linear(c.HiddenSize, c.IntermediateSize);
        fc2 = nn.Linear(c.IntermediateSize, c.HiddenSize);
        act = c.HiddenAct;
        RegisterComponents();
    }

    /// <param name="x">[B, N, C]</param>
    /// <returns>[B, N, C]</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return fc2.forward(act.Apply(fc1.forward(x))).MoveToOuterDisposeScope();
    }
}
