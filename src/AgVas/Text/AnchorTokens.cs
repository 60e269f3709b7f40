using AgVas.Modeling;

namespace AgVas.Text;

/// <summary>Former home of the anchor tokens, now <see cref="Anchors"/>; these names forward to it until the inference
/// code and the CLI use <see cref="Anchors"/> and <see cref="ChatTemplate.ImageToken"/> directly.</summary>
public static class AnchorTokens
{
    public const string Seg = Anchors.Seg;
    public const string Nor = Anchors.Nor;
    public const string Ano = Anchors.Ano;
    public static IReadOnlyList<string> InAnswerOrder => Anchors.Tokens;
    public const string Suffix = Anchors.Suffix;
    public const string Image = ChatTemplate.ImageToken;
}
