using System.Text;

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
/// An RFC 4180 CSV reader: comma-separated, fields optionally in double quotes (which may hold commas, line breaks
/// and doubled quotes), CRLF or LF line ends, UTF-8 with or without BOM. Blank lines are skipped.
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
        var fields = new List<string>();
        var field = new StringBuilder();
        int line = 1, recordLine = 1, i = 0;
        bool quoted = false, fieldStarted = false;
        if (text.Length > 0 && text[0] == '\uFEFF') i = 1;

        void EndField()
        {
            fields.Add(field.ToString());
            field.Clear();
            fieldStarted = false;
        }
        void EndRecord()
        {
            EndField();
            if (!(fields.Count == 1 && fields[0].Length == 0)) rows.Add(new CsvRow(recordLine, [.. fields]));
            fields.Clear();
        }

        for (; i < text.Length; i++)
        {
            char c = text[i];
            if (quoted)
            {
                if (c == '"')
                {
                    if (i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                    else quoted = false;
                }
                else
                {
                    if (c == '\n') line++;
                    field.Append(c);
                }
                continue;
            }
            switch (c)
            {
                case '"' when !fieldStarted && field.Length == 0:
                    quoted = true;
                    fieldStarted = true;
                    break;
                case ',':
                    EndField();
                    break;
                case '\r':
                    break;
                case '\n':
                    EndRecord();
                    line++;
                    recordLine = line;
                    break;
                default:
                    field.Append(c);
                    fieldStarted = true;
                    break;
            }
        }
        if (quoted) throw new DataException(nameForErrors, $"unterminated quoted CSV field starting on line {recordLine}");
        if (field.Length > 0 || fields.Count > 0 || fieldStarted) EndRecord();
        return rows;
    }
}
