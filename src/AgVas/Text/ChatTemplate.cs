namespace AgVas.Text;

/// <summary>LLaVA-OneVision's chat format (Qwen2's ChatML): each turn is <c>&lt;|im_start|&gt;role\n…&lt;|im_end|&gt;\n</c>; a
/// generation prompt ends with <c>&lt;|im_start|&gt;assistant\n</c>. The user turn carrying the image holds
/// <see cref="ImageToken"/> where the visual tokens go (Hugging Face's template writes it first, as "&lt;image&gt;\n").</summary>
public static class ChatTemplate
{
    public const string ImStart = "<|im_start|>";
    public const string ImEnd = "<|im_end|>";
    public const string EndOfText = "<|endoftext|>";
    /// <summary>LLaVA-OneVision's image placeholder in the prompt text.</summary>
    public const string ImageToken = "<image>";
    /// <summary>The system turn of LLaVA-OneVision's original "qwen_1_5" conversation template.</summary>
    public const string DefaultSystem = "You are a helpful assistant.";

    /// <summary>Renders the conversation; with <paramref name="addGenerationPrompt"/> it ends with the assistant header.</summary>
    public static string Render(IEnumerable<ChatMessage> messages, bool addGenerationPrompt)
    {
        var text = new System.Text.StringBuilder();
        foreach (var m in messages) text.Append(Turn(m));
        if (addGenerationPrompt) text.Append(ImStart).Append("assistant\n");
        return text.ToString();
    }

    private static string Turn(ChatMessage m) => $"{ImStart}{m.Role}\n{m.Content}{ImEnd}\n";

    /// <summary>Token ids of a whole conversation with the training targets: <c>IsTarget[i]</c> is true for the tokens of
    /// every assistant answer and its closing &lt;|im_end|&gt; (L_txt covers the answer tokens only, anchors included,
    /// docs/design.md §7); headers, system and user turns are context.</summary>
    public static (int[] Ids, bool[] IsTarget) EncodeForTraining(Qwen2Tokenizer tokenizer, IEnumerable<ChatMessage> messages)
    {
        var ids = new List<int>();
        var target = new List<bool>();
        void Add(string text, bool isTarget)
        {
            var encoded = tokenizer.Encode(text);
            ids.AddRange(encoded);
            target.AddRange(Enumerable.Repeat(isTarget, encoded.Length));
        }
        foreach (var m in messages)
        {
            Add($"{ImStart}{m.Role}\n", false);
            bool answer = m.Role == "assistant";
            Add(m.Content + ImEnd, answer);
            Add("\n", false);
        }
        return (ids.ToArray(), target.ToArray());
    }
}
