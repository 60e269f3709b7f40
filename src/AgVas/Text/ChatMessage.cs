namespace AgVas.Text;

/// <summary>One turn of a conversation: <paramref name="Role"/> is "system", "user" or "assistant".
/// The user turn that carries the image holds <see cref="ChatTemplate.ImageToken"/> where the visual tokens go.</summary>
public sealed record ChatMessage(string Role, string Content);
