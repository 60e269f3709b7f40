using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AgVas.Modeling;

/// <summary>Token Refiner: Linear(d,d) → ReLU → Linear(d, decoder width), shared by the three anchors unless <paramref name="Shared"/> is false.</summary>
public sealed record TokenRefinerConfig(int InputDim, int OutputDim, bool Shared = true);

/// <summary>
/// Token Refiner (docs/design.md §5): maps the LLM's last-layer states of the <see cref="Anchors"/> to the decoder width,
/// Linear(d,d) → ReLU → Linear(d,256) as LISA's. AG-VAS (ours): one MLP shared by the three anchors
/// (<c>mlps.0</c>); with <see cref="TokenRefinerConfig.Shared"/> false, one per anchor (<c>mlps.{0,1,2}</c>).
/// </summary>
public sealed class TokenRefiner : Module<Tensor, Tensor>
{
    private readonly ModuleList<RefinerMlp> mlps = new();

    public TokenRefiner(TokenRefinerConfig config) : base(nameof(TokenRefiner))
    {
        int n = config.Shared ? 1 : Anchors.Count;
        for (int i = 0; i < n; i++) mlps.Add(new RefinerMlp(config.InputDim, config.OutputDim));
        RegisterComponents();
    }

    /// <param name="anchorStates">[B, A, d] hidden states of NOR, ANO, SEG</param>
    /// <returns>[h_nor, h_ano, h_seg]: [B, A, C]</returns>
    public override Tensor forward(Tensor anchorStates)
    {
        using var scope = NewDisposeScope();
        if (mlps.Count == 1) return mlps[0].forward(anchorStates).MoveToOuterDisposeScope(); // [B, A, C]
        var parts = Enumerable.Range(0, mlps.Count).Select(i => mlps[i].forward(anchorStates[.., i, ..])); // A × [B, C]
        return stack(parts, dim: 1).MoveToOuterDisposeScope();                                              // [B, A, C]
    }

    public static long ParameterCount(TokenRefinerConfig c) =>
        (c.Shared ? 1 : Anchors.Count) * (Count.Linear(c.InputDim, c.InputDim) + Count.Linear(c.InputDim, c.OutputDim));
}

internal sealed class RefinerMlp : Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly Linear fc2;

    public RefinerMlp(int inputDim, int outputDim) : base(nameof(RefinerMlp))
    {
        fc1 = nn.Linear(inputDim, inputDim);
        fc2 = nn.Linear(inputDim, outputDim);
        RegisterComponents();
    }

    /// <param name="x">[..., d]</param>
    /// <returns>[..., C]</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return fc2.forward(nn.functional.relu(fc1.forward(x))).MoveToOuterDisposeScope();
    }
}
