using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AgVas.Modeling;

/// <summary>LLaVA-OneVision <c>mlp2x_gelu</c> visual projector: Linear → GELU → Linear, semantic width → LLM hidden size.</summary>
public sealed record ProjectorConfig(int InputSize, int OutputSize, Activation HiddenAct = Activation.Gelu);

/// <summary>
/// Visual projector (LLaVA-OneVision <c>mlp2x_gelu</c>, docs/design.md §3.2): <c>linear_2(GELU(linear_1(x)))</c>, mapping the
/// semantic encoder's tokens to the LLM width. Checkpoint prefix <c>multi_modal_projector.</c>.
/// </summary>
public sealed class Projector : Module<Tensor, Tensor>
{
    private readonly Linear linear_1;
    private readonly Linear linear_2;
    private readonly Activation act;

    public Projector(ProjectorConfig config) : base(nameof(Projector))
    {
        linear_1 = nn.Linear(config.InputSize, config.OutputSize);
        linear_2 = nn.Linear(config.OutputSize, config.OutputSize);
        act = config.HiddenAct;
        RegisterComponents();
    }

    /// <param name="x">[B, N_s, C_s]</param>
    /// <returns>f_s: [B, N_s, D]</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return linear_2.forward(act.Apply(linear_1.forward(x))).MoveToOuterDisposeScope();
    }

    public static long ParameterCount(ProjectorConfig c) => Count.Linear(c.InputSize, c.OutputSize) + Count.Linear(c.OutputSize, c.OutputSize);
}
