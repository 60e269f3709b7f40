namespace AgVas.Text;

/// <summary>placeholder</summary>
public static class TinyTokenizer
{
    public const int VocabSize = 384;
}
