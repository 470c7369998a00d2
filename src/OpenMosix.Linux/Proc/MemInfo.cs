using System.Globalization;

namespace OpenMosix.Linux.Proc;

/// <summary>The machine's memory from /proc/meminfo, in bytes.</summary>
public sealed record MemInfo(ulong Total, ulong Available)
{
    public static MemInfo Read() => Parse(File.ReadAllText("/proc/meminfo"));

    public static MemInfo Parse(string text)
    {
        ulong total = 0, available = 0;
        foreach (var line in text.Split('\n'))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 2) continue;
            var kib = ulong.Parse(parts[1], CultureInfo.InvariantCulture);
            if (parts[0] == "MemTotal:") total = kib * 1024;
            else if (parts[0] == "MemAvailable:") available = kib * 1024;
        }
        if (total == 0) throw new FormatException("/proc/meminfo has no MemTotal line");
        return new MemInfo(total, available);
    }
}
