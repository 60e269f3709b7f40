using AgVas.Modeling;
using System.Text.Json;
using AgVas.Text;

namespace AgVas.Tests.Text;

public class Qwen2TokenizerTests
{
    private static readonly JsonElement Golden = JsonDocument.Parse(File.ReadAllText(
        Path.Combine(AppContext.BaseDirectory, "Fixtures", "Language", "tokenizer_golden.json"))).RootElement;

    private static Qwen2Tokenizer TinyWithAnchors()
    {
        var tok = Qwen2Tokenizer.Tiny();
        int v = Golden.GetProperty("vocab_size").GetInt32();
        tok.AddSpecialTokens(Anchors.Tokens.Select((a, i) => (a, v + i)));
        return tok;
    }

    public static TheoryData<int> Cases() => new(Enumerable.Range(0, Golden.GetProperty("cases").GetArrayLength()));

    [Theory]
    [MemberData(nameof(Cases))]
    public void EncodingMatchesTheIndependentReferenceAndDecodesBack(int index)
    {
        var tok = TinyWithAnchors();
        var c = Golden.GetProperty("cases")[index];
        var text = c.GetProperty("text").GetString()!;
        var expected = c.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
        var ids = tok.Encode(text);
        Assert.Equal(expected, ids);
        Assert.Equal(text.Normalize(System.Text.NormalizationForm.FormC), tok.Decode(ids));
    }

    [Theory]
    [InlineData("{0}")]
    [InlineData(" {0}")]
    [InlineData("{0} ")]
    [InlineData("a{0}b")]
    [InlineData("word {0}.")]
    [InlineData("\n{0}\n")]
    [InlineData("{0}{0}")]
    [InlineData("x [NOR] [ANO] {0}")]
    public void EachAnchorIsExactlyOneIdWhereverItStands(string template)
    {
        var tok = TinyWithAnchors();
        foreach (var anchor in Anchors.Tokens)
        {
            int id = tok.TokenToId(anchor)!.Value;
            var text = string.Format(template, anchor);
            var ids = tok.Encode(text);
            int occurrences = (text.Length - text.Replace(anchor, "").Length) / anchor.Length;
            Assert.Equal(occurrences, ids.Count(i => i == id));
            // No fragment of the anchor survives as ordinary text.
            Assert.DoesNotContain(anchor.Trim('[', ']'), tok.Decode(ids.Where(i => i != id)));
        }
        Assert.Single(tok.Encode(Anchors.Seg));
    }

    [Fact]
    public void WithoutAnchorsTheyWouldSplitIntoSeveralTokens()
    {
        Assert.True(Qwen2Tokenizer.Tiny().Encode(Anchors.Seg).Length > 1);
    }

    [Fact]
    public void SaveAndLoadKeepTheAddedTokens()
    {
        var tok = TinyWithAnchors();
        var dir = Directory.CreateTempSubdirectory("agvas-tok-");
        try
        {
            var path = Path.Combine(dir.FullName, "tokenizer.json");
            tok.Save(path);
            var back = Qwen2Tokenizer.Load(path);
            Assert.Equal(tok.AddedTokens, back.AddedTokens);
            const string text = "<|im_start|>assistant\nA scratch. [NOR] [ANO] [SEG]<|im_end|>";
            Assert.Equal(tok.Encode(text), back.Encode(text));
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void ClashingAddedTokenIsRejected()
    {
        var tok = TinyWithAnchors();
        Assert.Throws<ArgumentException>(() => tok.AddSpecialTokens([(Anchors.Seg, 600)]));
        Assert.Throws<ArgumentException>(() => tok.AddSpecialTokens([("[NEW]", 5)]));
    }

    [Theory]
    [InlineData("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [")]
    [InlineData("[1, 2]")]
    [InlineData("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}")]
    [InlineData("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": \"zero\"}}}")]
    [InlineData("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [3]}}")]
    public void MalformedFilesAreRejectedNamingTheFile(string json)
    {
        var dir = Directory.CreateTempSubdirectory("agvas-tok-");
        try
        {
            var path = Path.Combine(dir.FullName, "tokenizer.json");
            File.WriteAllText(path, json);
            var e = Assert.Throws<TokenizerException>(() => Qwen2Tokenizer.Load(path));
            Assert.StartsWith(path + ": ", e.Message);
        }
        finally { dir.Delete(true); }
    }
}
