using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AgVas.Modeling;

/// <summary>Qwen2 with its output head (Hugging Face <c>Qwen2ForCausalLM</c>): <c>model.*</c> and, when the embeddings are
/// untied, <c>lm_head.weight</c> [V, D]. With tied embeddings the head is embed_tokens' weight and there is no lm_head parameter.</summary>
public sealed class Qwen2ForCausalLM : nn.Module, ILlmCausal
{
    private readonly Qwen2Model model;
    private readonly LoraLinear? lm_head;

    public Qwen2ForCausalLM(string name, Qwen2Config config, LoraConfig? lora = null, Device? device = null) : base(name)
    {
        model = new Qwen2Model("model", config, lora, device);
        if (!config.TieWordEmbeddings)
            lm_head = new LoraLinear("lm_head", config.HiddenSize, config.VocabSize, hasBias: false, lora: null, device);
        Lora = lora;
        RegisterComponents();
    }

    public Qwen2Config Config => model.Config;
    public int VocabSize => Config.VocabSize;
    public LoraConfig? Lora { get; }
    public Qwen2Model Model => model;

    /// <summary>The output-head weight [V, D]: lm_head's, or embed_tokens' when tied.</summary>
    public Parameter HeadWeight => lm_head?.Weight ?? model.EmbedTokens.Weight;

    /// <summary>Every linear layer of the decoder (7 per layer), in layer order.</summary>
    public IEnumerable<LoraLinear> Linears() => model.Layers.SelectMany(l => l.Linears());

    /// <summary>LoRA adapter parameters, selected by module membership.</summary>
    public IEnumerable<Parameter> AdapterParameters() => Linears().SelectMany(l => l.AdapterParameters());

    /// <summary>Every parameter that is not part of a LoRA adapter (the pretrained weights).</summary>
    public IEnumerable<Parameter> BaseParameters()
    {
        var adapter = new HashSet<Parameter>(AdapterParameters(), ReferenceEqualityComparer.Instance);
        return parameters().Where(p => !adapter.Contains(p));
    }

    public void MergeAdapters() { foreach (var l in Linears()) l.Merge(); }
    public void UnmergeAdapters() { foreach (var l in Linears()) l.Unmerge(); }

    /// <summary>Token ids [B, T] → embeddings [B, T, D].</summary>
    public Tensor Embed(Tensor ids) => model.Embed(ids);

    /// <summary>Last hidden states [B, T, D] (see <see cref="Qwen2Model.forward"/>).</summary>
    public Tensor Hidden(Tensor inputsEmbeds, Tensor? attentionMask = null, Tensor? positionIds = null, Qwen2KvCache? cache = null) =>
        model.forward(inputsEmbeds, attentionMask, positionIds, cache);

    /// <summary>hidden [B, T, D] → logits [B, T, V].</summary>
    public Tensor Logits(Tensor hidden) => nn.functional.linear(hidden, HeadWeight);

    /// <summary>Token ids [B, T] → logits [B, T, V] (full pass, or incremental with a cache).</summary>
    public Tensor forward(Tensor ids, Tensor? attentionMask = null, Tensor? positionIds = null, Qwen2KvCache? cache = null)
    {
        using var scope = NewDisposeScope();
        var hidden = Hidden(Embed(ids), attentionMask, positionIds, cache);                 // [B, T, D]
        return Logits(hidden).MoveToOuterDisposeScope();                                    // [B, T, V]
    }

    public Qwen2KvCache NewCache() => new(Config.NumHiddenLayers);
}
