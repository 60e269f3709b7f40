using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AgVas.Modeling;

/// <summary>The token embedding table (<c>embed_tokens.weight</c> [V, D], N(0, 0.02) init). Ours rather than nn.Embedding so
/// the table is created directly on the target device (the meta device for layout checks) with one allocation.</summary>
public sealed class Qwen2TokenEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;

    public Qwen2TokenEmbedding(string name, int vocabSize, int hiddenSize, Device? device = null) : base(name)
    {
        weight = new Parameter(empty(vocabSize, hiddenSize, device: device));
        nn.init.normal_(weight, 0, 0.02);
        RegisterComponents();
    }

    public Parameter Weight => weight;

    /// <summary>ids [B, T] (int64) → [B, T, D].</summary>
    public override Tensor forward(Tensor ids)
    {
        using var scope = NewDisposeScope();
        var rows = weight.index_select(0, ids.flatten());                                    // [B·T, D]
        return rows.view([.. ids.shape, weight.shape[1]]).MoveToOuterDisposeScope();         // [B, T, D]
    }
}
