using TorchSharp;
using static TorchSharp.torch;

namespace AgVas.Modeling;

/// <summary>Qwen2's SwiGLU feed-forward block: down_proj(silu(gate_proj(x)) · up_proj(x)), no biases.</summary>
public sealed class Qwen2Mlp : nn.Module<Tensor, Tensor>
{
    private readonly LoraLinear gate_proj;
    private readonly LoraLinear up_proj;
    private readonly LoraLinear down_proj;

    public Qwen2Mlp(string name, Qwen2Config config, LoraConfig? lora, Device? device = null) : base(name)
    {
        int d = config.HiddenSize, ff = config.IntermediateSize;
        gate_proj = new LoraLinear("gate_proj", d, ff, false, Pick(lora, LoraTargets.GateProj), device);
        up_proj = new LoraLinear("up_proj", d, ff, false, Pick(lora, LoraTargets.UpProj), device);
        down_proj = new LoraLinear("down_proj", ff, d, false, Pick(lora, LoraTargets.DownProj), device);
        RegisterComponents();
    }

    internal static LoraConfig? Pick(LoraConfig? lora, LoraTargets target) =>
        lora is not null && lora.Targets.HasFlag(target) ? lora : null;

    public IEnumerable<LoraLinear> Linears() => [gate_proj, up_proj, down_proj];

    /// <summary>x [B, T, D] → [B, T, D].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var gated = nn.functional.silu(gate_proj.forward(x)).mul(up_proj.forward(x));       // [B, T, FF]
        return down_proj.forward(gated).MoveToOuterDisposeScope();                          // [B, T, D]
    }
}
