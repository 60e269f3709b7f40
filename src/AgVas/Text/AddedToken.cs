namespace AgVas.Text;

/// <summary>A token matched as a whole before BPE (tokenizer.json's added_tokens): special tokens such as
/// &lt;|im_start|&gt;, &lt;image&gt; and the AG-VAS anchors. Matched verbatim (no normalization, no stripping).</summary>
public sealed record AddedToken(int Id, string Content, bool Special);
