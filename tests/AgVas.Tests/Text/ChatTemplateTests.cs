using AgVas.Modeling;
using AgVas.Text;

namespace AgVas.Tests.Text;

public class ChatTemplateTests
{
    [Fact]
    public void RendersLlavaOneVisionChatMl()
    {
        var text = ChatTemplate.Render(
            [new("system", ChatTemplate.DefaultSystem), new("user", "<image>\nIs there any anomaly?")], addGenerationPrompt: true);
        Assert.Equal("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n<image>\nIs there any anomaly?<|im_end|>\n<|im_start|>assistant\n", text);
    }

    [Fact]
    public void TrainingTargetsAreTheAnswerTokensWithAnchorsAndEnd()
    {
        var tok = Qwen2Tokenizer.Tiny();
        tok.AddSpecialTokens(Anchors.Tokens.Select((a, i) => (a, 512 + i)));
        ChatMessage[] conversation = [new("user", "<image>\nSegment the anomaly."), new("assistant", "Sure, it is [NOR] [ANO] [SEG].")];
        var (ids, isTarget) = ChatTemplate.EncodeForTraining(tok, conversation);
        Assert.Equal(tok.Encode(ChatTemplate.Render(conversation, false)), ids);
        var targets = ids.Where((_, i) => isTarget[i]).ToArray();
        Assert.Equal(tok.Encode("Sure, it is [NOR] [ANO] [SEG].<|im_end|>"), targets);
        Assert.Contains(512, targets);
        Assert.Contains(514, targets);
    }
}
