using System.Globalization;
using System.Text;

namespace OpenMosix.Daemon.Config;

/// <summary>
/// The part of TOML omd.toml needs: [tables], `key = value` with strings, integers, floats, booleans and one-line
/// arrays of strings, and # comments. Anything else is an error with its line number, never silently ignored.
/// Keys come back as "table.key".
/// </summary>
public static class TomlSubset
{
    public static IReadOnlyDictionary<string, (object Value, int Line)> Parse(string text, string fileName)
    {
        var values = new Dictionary<string, (object, int)>(StringComparer.Ordinal);
        var table = "";
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var number = i + 1;
            var line = StripComment(lines[i], fileName, number).Trim();
            if (line.Length == 0) continue;
            if (line[0] == '[')
            {
                if (line[^1] != ']' || line.StartsWith("[[", StringComparison.Ordinal))
                    throw Error(fileName, number, "a table header is written [name]");
                table = line[1..^1].Trim();
                if (!IsBareKey(table.Replace('.', '_')))
                    throw Error(fileName, number, $"'{table}' is not a valid table name");
                continue;
            }
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0) throw Error(fileName, number, "expected `key = value`");
            var key = line[..equals].Trim();
            if (!IsBareKey(key)) throw Error(fileName, number, $"'{key}' is not a valid key");
            var full = table.Length == 0 ? key : $"{table}.{key}";
            if (values.ContainsKey(full)) throw Error(fileName, number, $"'{full}' is set twice");
            values[full] = (ParseValue(line[(equals + 1)..].Trim(), fileName, number), number);
        }
        return values;
    }

    private static object ParseValue(string raw, string fileName, int line)
    {
        if (raw.Length == 0) throw Error(fileName, line, "a value is missing after '='");
        if (raw[0] is '"' or '\'')
        {
            var (value, rest) = ParseString(raw, fileName, line);
            if (rest.Trim().Length > 0) throw Error(fileName, line, "unexpected text after the string");
            return value;
        }
        if (raw[0] == '[')
        {
            if (raw[^1] != ']') throw Error(fileName, line, "an array must close on the same line");
            var items = new List<string>();
            var rest = raw[1..^1].Trim();
            while (rest.Length > 0)
            {
                if (rest[0] is not ('"' or '\'')) throw Error(fileName, line, "arrays may only hold strings");
                var (item, after) = ParseString(rest, fileName, line);
                items.Add(item);
                rest = after.TrimStart();
                if (rest.Length == 0) break;
                if (rest[0] != ',') throw Error(fileName, line, "array items are separated by commas");
                rest = rest[1..].TrimStart();
            }
            return items;
        }
        if (raw is "true") return true;
        if (raw is "false") return false;
        var digits = raw.Replace("_", "", StringComparison.Ordinal);
        if (long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
            return integer;
        if (double.TryParse(digits, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) && double.IsFinite(real))
            return real;
        throw Error(fileName, line, $"'{raw}' is not a string, number or boolean (strings need quotes)");
    }

    private static (string Value, string Remainder) ParseString(string raw, string fileName, int line)
    {
        var quote = raw[0];
        var builder = new StringBuilder();
        for (var i = 1; i < raw.Length; i++)
        {
            var c = raw[i];
            if (c == quote) return (builder.ToString(), raw[(i + 1)..]);
            if (c == '\\' && quote == '"')
            {
                if (++i >= raw.Length) break;
                builder.Append(raw[i] switch
                {
                    'n' => '\n',
                    't' => '\t',
                    '\\' => '\\',
                    '"' => '"',
                    _ => throw Error(fileName, line, $"unknown escape \\{raw[i]}"),
                });
                continue;
            }
            builder.Append(c);
        }
        throw Error(fileName, line, "a string is not closed");
    }

    private static string StripComment(string line, string fileName, int number)
    {
        char? quote = null;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote is null && c == '#') return line[..i];
            if (quote is null && c is '"' or '\'') quote = c;
            else if (c == quote && !(quote == '"' && i > 0 && line[i - 1] == '\\')) quote = null;
        }
        if (line.Contains('\0', StringComparison.Ordinal)) throw Error(fileName, number, "NUL byte in the file");
        return line;
    }

    private static bool IsBareKey(string key) =>
        key.Length > 0 && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    private static ConfigException Error(string fileName, int line, string reason) => new($"{fileName}:{line}: {reason}");
}
