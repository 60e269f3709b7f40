using AgVas.Data;

namespace AgVas.Tests.Data;

public class CsvTests
{
    [Fact]
    public void QuotedFieldsHoldCommasQuotesAndLineBreaks()
    {
        var rows = Csv.Parse("\uFEFFa,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n\r\nplain,,last", "t.csv");
        Assert.Equal(3, rows.Count);
        Assert.Equal(["a", "b", "c"], rows[0].Fields);
        Assert.Equal(["x, y", "say \"hi\"", "two\nlines"], rows[1].Fields);
        Assert.Equal(2, rows[1].Line);
        Assert.Equal(["plain", "", "last"], rows[2].Fields);
        Assert.Equal(5, rows[2].Line);
    }

    [Fact]
    public void UnterminatedQuoteIsAnErrorNamingTheFileAndLine()
    {
        var ex = Assert.Throws<DataException>(() => Csv.Parse("a,b\n1,\"open\n2,3\n", "bad.csv"));
        Assert.Equal("bad.csv: unterminated quoted CSV field starting on line 2", ex.Message);
    }

    [Fact]
    public void TrailingEmptyFieldIsKept()
    {
        var rows = Csv.Parse("a,b\n1,\n", "t.csv");
        Assert.Equal(["1", ""], rows[1].Fields);
    }
}

public class CsvRoundTripTests
{
    private static string Quote(string field) =>
        field.IndexOfAny([',', '"', '\n', '\r']) >= 0 || field.StartsWith(' ') ? "\"" + field.Replace("\"", "\"\"") + "\"" : field;

    [Fact]
    public void RandomFieldsSurviveQuoting()
    {
        var rng = new Random(3);
        const string alphabet = "ab ,\"\n;[]()é_-.";
        for (int trial = 0; trial < 200; trial++)
        {
            int columns = rng.Next(1, 6);
            var rows = Enumerable.Range(0, rng.Next(1, 5)).Select(_ =>
                Enumerable.Range(0, columns).Select(_ => new string(Enumerable.Range(0, rng.Next(0, 8)).Select(_ => alphabet[rng.Next(alphabet.Length)]).ToArray())).ToArray())
                .Where(r => !(r.Length == 1 && r[0].Length == 0)) // a lone empty field is a blank line, which CSV skips
                .ToList();
            var text = string.Join(rng.Next(2) == 0 ? "\n" : "\r\n", rows.Select(r => string.Join(",", r.Select(Quote))));
            var parsed = Csv.Parse(text, "t.csv");
            Assert.Equal(rows.Count, parsed.Count);
            for (int i = 0; i < rows.Count; i++) Assert.Equal(rows[i], parsed[i].Fields);
        }
    }
}
