using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AgVas.Modeling;

/// <summary>
/// SAM's two-way transformer (docs/design.md §5, AGMD): L blocks of token self-attention, token→image cross-attention,
/// token MLP and image→token cross-attention, then a final token→image attention. The tokens' own initial values serve
/// as their positional encoding. Parameter names are HF's <c>SamTwoWayTransformer</c> (<c>layers.{i}.*</c>,
/// <c>final_attn_token_to_image</c>, <c>layer_norm_final_attn</c>).
/// </summary>
public sealed class TwoWayTransformer : Module<Tensor, Tensor, Tensor, (Tensor Tokens, Tensor Image)>
{
    private readonly ModuleList<TwoWayAttentionBlock> layers = new();
    private readonly MultiHeadAttention final_attn_token_to_image;
    private readonly LayerNorm layer_norm_final_attn;

    public TwoWayTransformer(AgmdConfig c) : base(nameof(TwoWayTransformer))
    {
        for (int i = 0; i < c.NumHiddenLayers; i++) layers.Add(new TwoWayAttentionBlock(c, skipFirstLayerPe: i == 0));
        final_attn_token_to_image = new MultiHeadAttention(c.HiddenSize, c.NumAttentionHeads, c.AttentionDownsampleRate);
        layer_norm_final_attn = nn.LayerNorm(c.HiddenSize);
        RegisterComponents();
    }

    /// <param name="image">[B, C, H, W] image embedding (f_p)</param>
    /// <param name="imagePe">[B, C, H, W] its positional encoding</param>
    /// <param name="tokens">[B, T, C] query tokens (Z0)</param>
    /// <returns>tokens [B, T, C] and image [B, H·W, C] after the transformer</returns>
    public override (Tensor Tokens, Tensor Image) forward(Tensor image, Tensor imagePe, Tensor tokens)
    {
        using var scope = NewDisposeScope();
        var keys = image.flatten(2).permute(0, 2, 1);          // [B, HW, C]
        var keyPe = imagePe.flatten(2).permute(0, 2, 1);       // [B, HW, C]
        var queries = tokens.alias();                          // [B, T, C]
        foreach (var layer in layers) (queries, keys) = layer.forward(queries, keys, tokens, keyPe);
        var attn = final_attn_token_to_image.forward(queries.Plus(tokens), keys.Plus(keyPe), keys); // [B, T, C]
        queries = layer_norm_final_attn.forward(queries.Plus(attn));                            // [B, T, C]
        return (queries.MoveToOuterDisposeScope(), keys.MoveToOuterDisposeScope());
    }

    public static long ParameterCount(AgmdConfig c)
    {
        long d = c.HiddenSize;
        long block = MultiHeadAttention.ParameterCount(d, 1) + 2 * MultiHeadAttention.ParameterCount(d, c.AttentionDownsampleRate)
            + MlpBlock.ParameterCount(d, c.MlpDim) + 4 * Count.LayerNorm(d);
        return c.NumHiddenLayers * block + MultiHeadAttention.ParameterCount(d, c.AttentionDownsampleRate) + Count.LayerNorm(d);
    }
}

/// <summary>One two-way block; the first one skips adding the tokens' PE to its self-attention queries.</summary>
internal sealed class TwoWayAttentionBlock : Module<Tensor, Tensor, Tensor, Tensor, (Tensor Queries, Tensor Keys)>
{
    private readonly MultiHeadAttention self_attn;
    private readonly LayerNorm layer_norm1;
    private readonly MultiHeadAttention cross_attn_token_to_image;
    private readonly LayerNorm layer_norm2;
    private readonly MlpBlock mlp;
    private readonly LayerNorm layer_norm3;
    private readonly LayerNorm layer_norm4;
    private readonly MultiHeadAttention cross_attn_image_to_token;
    private readonly bool skipFirstLayerPe;

    public TwoWayAttentionBlock(AgmdConfig c, bool skipFirstLayerPe) : base(nameof(TwoWayAttentionBlock))
    {
        self_attn = new MultiHeadAttention(c.HiddenSize, c.NumAttentionHeads, 1);
        layer_norm1 = nn.LayerNorm(c.HiddenSize, c.LayerNormEps);
        cross_attn_token_to_image = new MultiHeadAttention(c.HiddenSize, c.NumAttentionHeads, c.AttentionDownsampleRate);
        layer_norm2 = nn.LayerNorm(c.HiddenSize, c.LayerNormEps);
        mlp = new MlpBlock(c.HiddenSize, c.MlpDim, Activation.Relu);
        layer_norm3 = nn.LayerNorm(c.HiddenSize, c.LayerNormEps);
        layer_norm4 = nn.LayerNorm(c.HiddenSize, c.LayerNormEps);
        cross_attn_image_to_token = new MultiHeadAttention(c.HiddenSize, c.NumAttentionHeads, c.AttentionDownsampleRate);
        this.skipFirstLayerPe = skipFirstLayerPe;
        RegisterComponents();
    }

    /// <param name="queries">[B, T, C] tokens</param>
    /// <param name="keys">[B, HW, C] image</param>
    /// <param name="queryPe">[B, T, C]</param>
    /// <param name="keyPe">[B, HW, C]</param>
    public override (Tensor Queries, Tensor Keys) forward(Tensor queries, Tensor keys, Tensor queryPe, Tensor keyPe)
    {
        using var scope = NewDisposeScope();
        if (skipFirstLayerPe)
        {
            queries = self_attn.forward(queries, queries, queries);                      // [B, T, C]
        }
        else
        {
            var q = queries.Plus(queryPe);                                                   // [B, T, C]
            queries = queries.Plus(self_attn.forward(q, q, queries));                        // [B, T, C]
        }
        queries = layer_norm1.forward(queries);
        var attn = cross_attn_token_to_image.forward(queries.Plus(queryPe), keys.Plus(keyPe), keys); // [B, T, C]
        queries = layer_norm2.forward(queries.Plus(attn));                                   // [B, T, C]
        queries = layer_norm3.forward(queries.Plus(mlp.forward(queries)));                   // [B, T, C]
        attn = cross_attn_image_to_token.forward(keys.Plus(keyPe), queries.Plus(queryPe), queries); // [B, HW, C]
        keys = layer_norm4.forward(keys.Plus(attn));                                         // [B, HW, C]
        return (queries.MoveToOuterDisposeScope(), keys.MoveToOuterDisposeScope());
    }
}
