using System.Text;
using nietras.SeparatedValues;

namespace AgVas.Data;

/// <summary>One record of a CSV file: its fields and the 1-based line it starts on (for error messages).</summary>
internal sealed record CsvRow(int Line, string[] Fields);

/// <summary>A CSV file read whole: header, rows, and column lookup whose errors name the file.</summary>
internal sealed class CsvTable(string path, string[] header, List<CsvRow> rows)
{
    public string Path { get; } = path;
    public string[] Header { get; } = header;
    public IReadOnlyList<CsvRow> Rows { get; } = rows;

    /// <summary>Index of a column, or -1 (header names compare case-insensitively, surrounding spaces ignored).</summary>
    public int TryColumn(string name) => Array.FindIndex(Header, h => string.Equals(h.Trim(), name, StringComparison.OrdinalIgnoreCase));

    public bool Has(params string[] names) => names.All(n => TryColumn(n) >= 0);

    /// <summary>Index of a required column; a missing one is a <see cref="DataException"/> listing what the header has.</summary>
    public int Column(string name)
    {
        int i = TryColumn(name);
        return i >= 0 ? i : throw new DataException(Path, $"missing CSV column '{name}' (header has: {string.Join(", ", Header)})");
    }

    /// <summary>Field <paramref name="column"/> of <paramref name="row"/>, trimmed; empty when the row is short.</summary>
    public static string Field(CsvRow row, int column) => column >= 0 && column < row.Fields.Length ? row.Fields[column].Trim() : "";
}

/// <summary>
/// Reads CSV with Sep (RFC 4180: comma-separated, fields optionally in double quotes, which may hold commas, line breaks
/// and doubled quotes; CRLF or LF line ends; UTF-8 with or without BOM). Blank lines are skipped.
/// </summary>
internal static class Csv
{
    public static CsvTable Read(string path)
    {
        if (!File.Exists(path)) throw new DataException(path, "file not found");
        string text;
        try { text = File.ReadAllText(path, Encoding.UTF8); }
        catch (IOException e) { throw new DataException(path, $"cannot read file ({e.Message})", e); }
        var records = Parse(text, path);
        if (records.Count == 0) throw new DataException(path, "empty CSV file (no header)");
        var header = records[0].Fields;
        return new CsvTable(path, header, records.Skip(1).ToList());
    }

    public static List<CsvRow> Parse(string text, string nameForErrors)
    {
        var rows = new List<CsvRow>();
        using var reader = Sep.Reader(o => o with { Sep = new Sep(','), HasHeader = false, Unescape = true, DisableColCountCheck = true })
            .FromText(text.TrimStart('\uFEFF'));
        foreach (var row in reader)
        {
            var fields = new string[row.ColCount];
            for (int i = 0; i < fields.Length; i++) fields[i] = row[i].ToString();
            if (fields is [""]) continue;                                          // a blank line
            rows.Add(new CsvRow(row.RowIndex == 0 ? 1 : row.LineNumberFrom, fields)); // Sep 0.18 gives row 0 its end line
        }
        // Every quote opens or closes a quoted run, so an odd count leaves the last record's quote open to the end.
        if (text.Count(c => c == '"') % 2 == 1)
            throw new DataException(nameForErrors, $"unterminated quoted CSV field starting on line {(rows.Count > 0 ? rows[^1].Line : 1)}");
        return rows;
    }
}
