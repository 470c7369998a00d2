using System.Globalization;

namespace OpenMosix.Linux.Proc;

/// <summary>
/// /proc/PID/limits: readable for any process we may inspect, unlike prlimit(2) on another user's process, which
/// needs CAP_SYS_RESOURCE. Rows come in RLIMIT_* order; columns are found from the header.
/// </summary>
public static class LimitsParser
{
    public static List<(ulong Soft, ulong Hard)> Parse(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0) throw new FormatException("/proc/PID/limits is empty");
        var soft = lines[0].IndexOf("Soft Limit", StringComparison.Ordinal);
        var hard = lines[0].IndexOf("Hard Limit", StringComparison.Ordinal);
        var units = lines[0].IndexOf("Units", StringComparison.Ordinal);
        if (soft < 0 || hard < soft || units < hard) throw new FormatException("/proc/PID/limits has no Soft/Hard Limit header");
        var result = new List<(ulong, ulong)>();
        foreach (var line in lines.Skip(1))
        {
            if (line.Length < hard) throw new FormatException($"short /proc/PID/limits line '{line}'");
            result.Add((Value(line[soft..hard]), Value(line[hard..Math.Min(units, line.Length)])));
        }
        return result;
    }

    private static ulong Value(string field)
    {
        var s = field.Trim();
        return s == "unlimited" ? ulong.MaxValue
            : ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v
            : throw new FormatException($"bad limit value '{s}' in /proc/PID/limits");
    }
}
