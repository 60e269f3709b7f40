using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AgVas.Modeling;

/// <summary>The activations the vision side uses; Hugging Face spells them <c>gelu</c>, <c>gelu_pytorch_tanh</c>, <c>relu</c>.</summary>
public enum Activation
{
    /// <summary>Exact (erf) GELU: SAM's image encoder and upscaling, the LLaVA projector.</summary>
    Gelu,
    /// <summary>tanh-approximated GELU: SigLIP's MLP (<c>gelu_pytorch_tanh</c>).</summary>
    GeluTanh,
    /// <summary>ReLU: SAM's two-way transformer MLP and hypernetworks, the Token Refiner.</summary>
    Relu,
}

internal static class ActivationExtensions
{
    public static Tensor Apply(this Activation activation, Tensor x) => activation switch
    {
        Activation.Gelu => nn.functional.gelu(x),
        Activation.GeluTanh => nn.functional.gelu(x, TorchSharp.Modules.GELU.Approximate.tanh),
        Activation.Relu => nn.functional.relu(x),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, null),
    };

    /// <summary>Maps a Hugging Face <c>hidden_act</c> string; null for an unsupported one.</summary>
    public static Activation? FromHuggingFace(string? name) => name switch
    {
        "gelu" => Activation.Gelu,
        "gelu_pytorch_tanh" or "gelu_new" or "gelu_fast" => Activation.GeluTanh,
        "relu" => Activation.Relu,
        _ => null,
    };
}
