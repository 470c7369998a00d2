using System.Globalization;

namespace OpenMosix.Linux.Proc;

/// <summary>The fields of /proc/PID/status the project uses.</summary>
public sealed record ProcStatus(
    string Name, char State, uint? Umask, int Tgid, int PPid, int TracerPid, uint[] Uid, uint[] Gid, uint[] Groups,
    int Threads, ulong SigPnd, ulong ShdPnd, ulong SigBlk, ulong SigIgn, ulong SigCgt)
{
    public static ProcStatus Parse(string text)
    {
        var fields = Fields(text);
        string Get(string key) => fields.TryGetValue(key, out var v) ? v : throw new FormatException($"/proc/PID/status has no '{key}' line");
        uint[] Ids(string key) => [.. Get(key).Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries).Select(s => uint.Parse(s, CultureInfo.InvariantCulture))];
        ulong Mask(string key) => ulong.Parse(Get(key), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        int Int(string key) => int.Parse(Get(key), CultureInfo.InvariantCulture);
        var uid = Ids("Uid");
        var gid = Ids("Gid");
        if (uid.Length != 4 || gid.Length != 4) throw new FormatException("/proc/PID/status Uid/Gid must have 4 values");
        return new ProcStatus(
            Get("Name"), Get("State") is { Length: > 0 } s ? s[0] : '?',
            fields.TryGetValue("Umask", out var um) ? Convert.ToUInt32(um, 8) : null,
            Int("Tgid"), Int("PPid"), Int("TracerPid"), uid, gid,
            fields.TryGetValue("Groups", out var g) ? [.. g.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(x => uint.Parse(x, CultureInfo.InvariantCulture))] : [],
            Int("Threads"), Mask("SigPnd"), Mask("ShdPnd"), Mask("SigBlk"), Mask("SigIgn"), Mask("SigCgt"));
    }

    /// <summary>Each "Key:\tvalue" line of a status file, the value trimmed.</summary>
    internal static Dictionary<string, string> Fields(string text)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0) fields[line[..colon]] = line[(colon + 1)..].Trim();
        }
        return fields;
    }
}
