using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace AgVas.Text;

/// <summary>Qwen2's byte-level BPE tokenizer, read from a Hugging Face <c>tokenizer.json</c>: NFC normalization, the split
/// regex of the pre-tokenizer, GPT-2's byte→character map, BPE merges by rank, and added tokens matched whole before
/// everything else (so each of the <see cref="Modeling.Anchors"/> is one id wherever they appear).
/// The file is read here (Microsoft.ML.Tokenizers 2.0.1 has no tokenizer.json loader); the BPE itself is
/// Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/> in byte-level mode with a <see cref="RegexPreTokenizer"/>.
/// Added tokens are split out here rather than through the library's special-token support so that adding the anchors
/// later never rebuilds the BPE and their matching is ours to test.</summary>
public sealed class Qwen2Tokenizer
{
    /// <summary>Qwen2's pre-tokenizer regex, used when tokenizer.json has no Split pattern.</summary>
    public const string Qwen2SplitRegex =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private readonly JsonObject document;
    private readonly BpeTokenizer bpe;
    private readonly Dictionary<string, int> vocab;
    private readonly Dictionary<int, string> idToToken;
    private readonly List<AddedToken> added;
    private Regex? addedSplitter;

    private Qwen2Tokenizer(JsonObject document, BpeTokenizer bpe, Dictionary<string, int> vocab, List<AddedToken> added)
    {
        this.document = document;
        this.bpe = bpe;
        this.vocab = vocab;
        idToToken = vocab.ToDictionary(kv => kv.Value, kv => kv.Key);
        this.added = added;
        RebuildSplitter();
    }

    /// <summary>Added tokens in id order.</summary>
    public IReadOnlyList<AddedToken> AddedTokens => added;

    /// <summary>One past the largest id (BPE vocabulary and added tokens).</summary>
    public int Count => Math.Max(vocab.Count == 0 ? 0 : vocab.Values.Max() + 1, added.Count == 0 ? 0 : added.Max(a => a.Id) + 1);

    /// <summary>Reads a tokenizer.json; throws <see cref="TokenizerException"/> naming the file on any problem.</summary>
    public static Qwen2Tokenizer Load(string path)
    {
        if (!File.Exists(path)) throw new TokenizerException(path, "file not found");
        string text;
        try { text = File.ReadAllText(path); }
        catch (IOException e) { throw new TokenizerException(path, "cannot read: " + e.Message); }
        return Parse(text, path);
    }

    /// <summary>The tiny preset's tokenizer (a byte-level BPE with 250 merges trained by tools/golden/language_tokenizer.py),
    /// embedded in the library.</summary>
    public static Qwen2Tokenizer Tiny()
    {
        using var stream = typeof(Qwen2Tokenizer).Assembly.GetManifestResourceStream("AgVas.Text.tiny_tokenizer.json")
            ?? throw new InvalidOperationException("embedded resource AgVas.Text.tiny_tokenizer.json is missing");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return Parse(reader.ReadToEnd(), "tiny_tokenizer.json");
    }

    /// <summary>Parses tokenizer.json text; <paramref name="source"/> names it in errors.</summary>
    public static Qwen2Tokenizer Parse(string json, string source)
    {
        JsonObject root;
        try { root = JsonNode.Parse(json) as JsonObject ?? throw new TokenizerException(source, "not a JSON object"); }
        catch (JsonException e) { throw new TokenizerException(source, "malformed JSON: " + e.Message); }

        if (root["model"] is not JsonObject model) throw new TokenizerException(source, "no \"model\" object");
        var type = model["type"]?.GetValue<string>();
        if (type != "BPE") throw new TokenizerException(source, $"model.type is \"{type}\", expected \"BPE\"");
        if (model["vocab"] is not JsonObject vocabNode) throw new TokenizerException(source, "no model.vocab object");
        var vocab = new Dictionary<string, int>(vocabNode.Count, StringComparer.Ordinal);
        foreach (var (token, id) in vocabNode)
        {
            if (id is null || id.GetValueKind() != JsonValueKind.Number)
                throw new TokenizerException(source, $"model.vocab[\"{token}\"] is not a number");
            vocab[token] = id.GetValue<int>();
        }
        var merges = new List<string>();
        if (model["merges"] is JsonArray mergesNode)
            foreach (var m in mergesNode)
                merges.Add(m switch
                {
                    JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
                    JsonArray pair when pair.Count == 2 => $"{pair[0]!.GetValue<string>()} {pair[1]!.GetValue<string>()}",
                    _ => throw new TokenizerException(source, $"model.merges entry {merges.Count} is neither \"a b\" nor [a, b]"),
                });
        var addedTokens = new List<AddedToken>();
        if (root["added_tokens"] is JsonArray addedNode)
            foreach (var a in addedNode)
            {
                var content = a?["content"]?.GetValue<string>();
                var id = a?["id"]?.GetValue<int>();
                if (content is null || id is null) throw new TokenizerException(source, $"added_tokens entry {addedTokens.Count} lacks id or content");
                addedTokens.Add(new AddedToken(id.Value, content, a?["special"]?.GetValue<bool>() ?? false));
            }
        addedTokens.Sort((x, y) => x.Id.CompareTo(y.Id));

        var pattern = FindSplitRegex(root["pre_tokenizer"]) ?? Qwen2SplitRegex;
        BpeTokenizer bpe;
        try
        {
            bpe = BpeTokenizer.Create(new BpeOptions(vocab)
            {
                Merges = merges,
                ByteLevel = true,
                PreTokenizer = new RegexPreTokenizer(new Regex(pattern, RegexOptions.Compiled), null),
            });
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException)
        {
            throw new TokenizerException(source, "invalid BPE model: " + e.Message);
        }
        return new Qwen2Tokenizer(root, bpe, vocab, addedTokens);
    }

    private static string? FindSplitRegex(JsonNode? node) => node switch
    {
        JsonObject o when o["type"]?.GetValue<string>() == "Split" => o["pattern"]?["Regex"]?.GetValue<string>(),
        JsonObject o when o["pretokenizers"] is JsonArray list => list.Select(FindSplitRegex).FirstOrDefault(r => r is not null),
        _ => null,
    };

    /// <summary>Id of a token (an added token's content or a BPE vocabulary entry in byte-level form), or null.</summary>
    public int? TokenToId(string token) =>
        added.FirstOrDefault(a => a.Content == token)?.Id ?? (vocab.TryGetValue(token, out var id) ? id : null);

    /// <summary>Adds special tokens with the given ids (AG-VAS: the anchors at V, V+1, V+2). A token already present with
    /// the same id is kept; a clash of content or id with a different token throws.</summary>
    public void AddSpecialTokens(IEnumerable<(string Content, int Id)> tokens)
    {
        foreach (var (content, id) in tokens)
        {
            var existing = added.FirstOrDefault(a => a.Content == content);
            if (existing is not null)
            {
                if (existing.Id != id) throw new ArgumentException($"token {content} already has id {existing.Id}, not {id}");
                continue;
            }
            if (added.Any(a => a.Id == id) || idToToken.ContainsKey(id))
                throw new ArgumentException($"id {id} for {content} is already taken");
            added.Add(new AddedToken(id, content, true));
        }
        added.Sort((x, y) => x.Id.CompareTo(y.Id));
        RebuildSplitter();
    }

    private void RebuildSplitter()
    {
        addedSplitter = added.Count == 0 ? null : new Regex(
            "(" + string.Join("|", added.Select(a => a.Content).OrderByDescending(c => c.Length).Select(Regex.Escape)) + ")",
            RegexOptions.CultureInvariant);
    }

    /// <summary>Text → ids. Added tokens are matched first (longest first); the text between them is NFC-normalized,
    /// split by the regex and byte-level BPE encoded.</summary>
    public int[] Encode(string text)
    {
        var ids = new List<int>();
        var chunks = addedSplitter is null ? [text] : addedSplitter.Split(text);
        foreach (var chunk in chunks)
        {
            if (chunk.Length == 0) continue;
            var special = added.FirstOrDefault(a => a.Content == chunk);
            if (special is not null)
            {
                ids.Add(special.Id);
                continue;
            }
            ids.AddRange(bpe.EncodeToIds(chunk.Normalize(NormalizationForm.FormC)));
        }
        return ids.ToArray();
    }

    /// <summary>Ids → text; special added tokens are dropped when <paramref name="skipSpecial"/>. Ids outside the
    /// tokenizer (e.g. padding rows of the embedding) are skipped.</summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecial = false)
    {
        var text = new StringBuilder();
        var run = new List<int>();
        void Flush()
        {
            if (run.Count > 0) text.Append(bpe.Decode(run));
            run.Clear();
        }
        foreach (var id in ids)
        {
            var special = added.FirstOrDefault(a => a.Id == id);
            if (special is not null)
            {
                Flush();
                if (!(skipSpecial && special.Special)) text.Append(special.Content);
            }
            else if (idToToken.ContainsKey(id)) run.Add(id);
        }
        Flush();
        return text.ToString();
    }

    /// <summary>Writes the tokenizer.json (the original document with the current added_tokens), atomically.</summary>
    public void Save(string path)
    {
        var copy = (JsonObject)document.DeepClone();
        var addedNode = new JsonArray();
        foreach (var a in added)
            addedNode.Add(new JsonObject
            {
                ["id"] = a.Id, ["content"] = a.Content, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                ["normalized"] = false, ["special"] = a.Special,
            });
        copy["added_tokens"] = addedNode;
        AtomicFile.WriteAllText(path, copy.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
    }
}
