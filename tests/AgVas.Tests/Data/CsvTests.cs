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
