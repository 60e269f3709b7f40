namespace AgVas.Modeling;

/// <summary>Total and trainable parameter count of one component.</summary>
public readonly record struct ParameterCount(long Total, long Trainable);

/// <summary>
/// Parameter counts of the vision side computed from the configuration alone (no weights allocated), keyed by the
/// component names of <c>agvas model summary</c>. Buffers (the Fourier PE matrices) are not parameters.
/// </summary>
public static class VisionParameterCounts
{
    public const string SemanticEncoder = "semantic_encoder";
    public const string Projector = "projector";
    public const string PixelEncoder = "pixel_encoder";
    public const string Spam = "spam";
    public const string TokenRefiner = "token_refiner";
    public const string Agmd = "agmd";
    /// <summary>The frozen ImageNet ResNet-18 (ResNet configurations; loaded from its NuGet package, not saved with a model).</summary>
    public const string Backbone = "resnet18";
    public const string PixelNeck = "pixel_neck";

    /// <summary>Frozen components report 0 trainable (the encoders and the projector, docs/design.md §3.2; with the ResNet backbone
    /// only the backbone is frozen).</summary>
    public static IReadOnlyList<KeyValuePair<string, ParameterCount>> Compute(VisionConfig c)
    {
        VisionBuilder.Validate(c);
        if (c.ResNet is { } r)
            return
            [
                new(Backbone, Frozen(ResNet18.ParameterCount)),
                new(Projector, Trainable(Modeling.Projector.ParameterCount(c.Projector))),
                new(PixelNeck, Trainable(ResNetPixelNeck.ParameterCount(r))),
                new(Spam, Trainable(Modeling.Spam.ParameterCount(c.Spam))),
                new(TokenRefiner, Trainable(Modeling.TokenRefiner.ParameterCount(c.TokenRefiner))),
                new(Agmd, Trainable(Modeling.Agmd.ParameterCount(c.Agmd))),
            ];
        return
        [
            new(SemanticEncoder, Frozen(Modeling.SemanticEncoder.ParameterCount(c.SemanticEncoder))),
            new(Projector, Frozen(Modeling.Projector.ParameterCount(c.Projector))),
            new(PixelEncoder, Frozen(Modeling.PixelEncoder.ParameterCount(c.PixelEncoder))),
            new(Spam, Trainable(Modeling.Spam.ParameterCount(c.Spam))),
            new(TokenRefiner, Trainable(Modeling.TokenRefiner.ParameterCount(c.TokenRefiner))),
            new(Agmd, Trainable(Modeling.Agmd.ParameterCount(c.Agmd))),
        ];
    }

    private static ParameterCount Frozen(long n) => new(n, 0);
    private static ParameterCount Trainable(long n) => new(n, n);
}
