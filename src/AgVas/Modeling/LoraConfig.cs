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
    /// <summary>AG-VAS default (ours, AGVAS.md §2): the attention projections q/k/v/o.</summary>
    Attention = QProj | KProj | VProj | OProj,
    Mlp = GateProj | UpProj | DownProj,
}

/// <summary>LoRA on the LLM (AGVAS.md §2): rank 16 as in the paper; alpha 32, dropout 0.05 and the q/k/v/o
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
