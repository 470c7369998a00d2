using System.Text;

namespace OpenMosix.Cli.Infrastructure;

/// <summary>Left-aligned columns sized to their widest cell; the last column is not padded.</summary>
internal sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [headers];

    public void Add(params string[] cells) => _rows.Add(cells);

    public override string ToString()
    {
        var widths = new int[headers.Length];
        foreach (var row in _rows)
            for (var i = 0; i < row.Length; i++)
                widths[i] = Math.Max(widths[i], row[i].Length);
        var text = new StringBuilder();
        foreach (var row in _rows)
        {
            for (var i = 0; i < row.Length; i++)
                text.Append(i == row.Length - 1 ? row[i] : row[i].PadRight(widths[i] + 2));
            text.Append('\n');
        }
        return text.ToString();
    }
}
