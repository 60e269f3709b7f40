using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AgVas.Modeling;

/// <summary>The linear layers of a Qwen2 decoder layer that can carry a LoRA adapter.</summary>
[Flags]
public enum LoraTargets
{
    None = 0,
    QProj = 1,
    KProj = 2,
    VProj = 4,
    OProj = 8,
    GateProj = 16,
    UpProj = 32,
    DownProj = 64,
    /// <summary>AG-VAS default (ours, docs/design.md §3.4): the attention projections q/k/v/o.</summary>
    Attention = QProj | KProj | VProj | OProj,
    Mlp = GateProj | UpProj | DownProj,
}

/// <summary>LoRA on the LLM (docs/design.md §3.4): rank 16 as in the paper; alpha 32, dropout 0.05 and the q/k/v/o
/// targets are ours. The adapter adds (alpha / rank) · B·A·dropout(x) to a frozen linear layer.</summary>
public sealed record LoraConfig
{
    public int Rank { get; init; } = 16;
    public double Alpha { get; init; } = 32;
    public double Dropout { get; init; } = 0.05;
    public LoraTargets Targets { get; init; } = LoraTargets.Attention;

    /// <summary>alpha / rank, the factor on B·A.</summary>
    public double Scaling => Alpha / Rank;

    public LoraConfig Validate()
    {
        if (Rank <= 0) throw new ArgumentException($"LoraConfig.Rank: must be positive, got {Rank}");
        if (Alpha <= 0) throw new ArgumentException($"LoraConfig.Alpha: must be positive, got {Alpha}");
        if (Dropout is < 0 or >= 1) throw new ArgumentException($"LoraConfig.Dropout: must be in [0, 1), got {Dropout}");
        return this;
    }
}

/// <summary>A linear layer y = x·Wᵀ + b whose parameters keep Hugging Face's names (<c>weight</c>, <c>bias</c>), optionally
/// carrying a LoRA adapter (Hu et al. 2021; docs/design.md §3.4): y += (alpha/r) · dropout(x)·Aᵀ·Bᵀ with
/// <c>lora_A.weight</c> [r, in] (Kaiming-uniform) and <c>lora_B.weight</c> [out, r] (zeros), so a fresh adapter is the identity.
/// <see cref="Merge"/> folds the adapter into W for inference; <see cref="Unmerge"/> takes it out again.</summary>
public sealed class LoraLinear : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly Linear? lora_A;
    private readonly Linear? lora_B;
    private readonly Dropout? lora_dropout;
    private readonly double scaling;

    /// <param name="initStd">Standard deviation of the normal init of the base weight (Hugging Face's initializer_range).</param>
    public LoraLinear(string name, int inFeatures, int outFeatures, bool hasBias, LoraConfig? lora, Device? device = null, double initStd = 0.02)
        : base(name)
    {
        weight = new Parameter(empty(outFeatures, inFeatures, device: device));
        nn.init.normal_(weight, 0, initStd);
        if (hasBias) bias = new Parameter(zeros(outFeatures, device: device));
        if (lora is not null)
        {
            lora.Validate();
            lora_A = nn.Linear(inFeatures, lora.Rank, hasBias: false, device: device);   // Kaiming-uniform, as PEFT
            lora_B = nn.Linear(lora.Rank, outFeatures, hasBias: false, device: device);
            using (no_grad()) lora_B.weight!.zero_();
            lora_dropout = nn.Dropout(lora.Dropout);
            scaling = lora.Scaling;
        }
        RegisterComponents();
    }

    public int InFeatures => (int)weight.shape[1];
    public int OutFeatures => (int)weight.shape[0];
    public bool HasAdapter => lora_A is not null;
    /// <summary>True while the adapter is folded into <c>weight</c>; the forward then skips the adapter path.</summary>
    public bool IsMerged { get; private set; }
    public Parameter Weight => weight;
    public Parameter? Bias => bias;

    /// <summary>The adapter's parameters (A then B); empty without an adapter. Trainable-parameter selection uses this
    /// (module membership), never parameter-name matching.</summary>
    public IEnumerable<Parameter> AdapterParameters()
    {
        if (lora_A is null || lora_B is null) yield break;
        yield return lora_A.weight!;
        yield return lora_B.weight!;
    }

    /// <summary>The base parameters (weight, bias).</summary>
    public IEnumerable<Parameter> BaseParameters()
    {
        yield return weight;
        if (bias is not null) yield return bias;
    }

    /// <summary>x [..., in] → [..., out].</summary>
    public override Tensor forward(Tensor x)
    {
        var y = nn.functional.linear(x, weight, bias);                                    // [..., out]
        if (lora_A is null || lora_B is null || lora_dropout is null || IsMerged) return y;
        using var scope = NewDisposeScope();
        using Scalar s = scaling;
        var delta = lora_B.forward(lora_A.forward(lora_dropout.forward(x)));              // [..., in] → [..., r] → [..., out]
        return y.Plus(delta.mul(s)).MoveToOuterDisposeScope();
    }

    /// <summary>W ← W + (alpha/r)·B·A. No-op without an adapter or when already merged.</summary>
    public void Merge()
    {
        if (lora_A is null || lora_B is null || IsMerged) return;
        using var guard = no_grad();
        using var delta = DeltaWeight();
        weight.add_(delta, Scalars.One);
        IsMerged = true;
    }

    /// <summary>W ← W − (alpha/r)·B·A, undoing <see cref="Merge"/> (exact up to float rounding).</summary>
    public void Unmerge()
    {
        if (lora_A is null || lora_B is null || !IsMerged) return;
        using var guard = no_grad();
        using var delta = DeltaWeight();
        weight.sub_(delta);
        IsMerged = false;
    }

    /// <summary>(alpha/r)·B·A computed in float64 then cast, so merge and unmerge add and remove the same tensor.</summary>
    private Tensor DeltaWeight()
    {
        using var scope = NewDisposeScope();
        using Scalar s = scaling;
        var b = lora_B!.weight!.to_type(ScalarType.Float64);                            // [out, r]
        var a = lora_A!.weight!.to_type(ScalarType.Float64);                            // [r, in]
        return matmul(b, a).mul_(s).to_type(weight.dtype).MoveToOuterDisposeScope(); // [out, in]
    }
}
