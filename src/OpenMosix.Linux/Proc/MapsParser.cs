using System.Globalization;

namespace OpenMosix.Linux.Proc;

/// <summary>Parses /proc/PID/maps: "start-end perms offset major:minor inode   name".</summary>
public static class MapsParser
{
    public static List<MapsEntry> Parse(string text)
    {
        var result = new List<MapsEntry>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            result.Add(ParseLine(line));
        return result;
    }

    public static MapsEntry ParseLine(string line)
    {
        var span = line.AsSpan();
        var range = NextField(ref span);
        var perms = NextField(ref span);
        var offset = NextField(ref span);
        var device = NextField(ref span);
        var inode = NextField(ref span);
        var name = span.Trim().ToString();
        var dash = range.IndexOf('-');
        var colon = device.IndexOf(':');
        if (dash < 0 || colon < 0 || perms.Length < 4)
            throw new FormatException($"not a /proc/PID/maps line: '{line}'");
        return new MapsEntry(
            Hex(range[..dash], line), Hex(range[(dash + 1)..], line),
            perms[0] == 'r', perms[1] == 'w', perms[2] == 'x', perms[3] == 's',
            Hex(offset, line), (uint)Hex(device[..colon], line), (uint)Hex(device[(colon + 1)..], line),
            ulong.TryParse(inode, NumberStyles.None, CultureInfo.InvariantCulture, out var ino) ? ino
                : throw new FormatException($"bad inode in maps line '{line}'"),
            name);
    }

    private static ReadOnlySpan<char> NextField(ref ReadOnlySpan<char> rest)
    {
        rest = rest.TrimStart(' ');
        var end = rest.IndexOf(' ');
        var field = end < 0 ? rest : rest[..end];
        rest = end < 0 ? [] : rest[end..];
        return field;
    }

    private static ulong Hex(ReadOnlySpan<char> s, string line) =>
        ulong.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var v) ? v
            : throw new FormatException($"bad hex field '{s}' in maps line '{line}'");
}
