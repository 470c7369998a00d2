using System.Globalization;

namespace OpenMosix.Linux.Proc;

/// <summary>fdinfo of an eventfd: its counter (hex in fdinfo) and, on kernels since 6.4, whether it counts as a semaphore.</summary>
public sealed record EventFdInfo(ulong Count, bool Semaphore);

/// <summary>fdinfo of a timerfd: the clock, expirations not read yet, the settime flags, and the time left and the
/// interval in nanoseconds (the kernel shows the time left relative to now, whatever the flags).</summary>
public sealed record TimerFdInfo(int ClockId, ulong Ticks, int SettimeFlags, long RemainingNanoseconds, long IntervalNanoseconds);

/// <summary>One registration of an epoll instance: descriptor number, events (with EPOLLET/ONESHOT/EXCLUSIVE bits),
/// the 64-bit user data, and the inode and kernel device number of the registered file.</summary>
public sealed record EpollRegistrationInfo(int TargetFd, uint Events, ulong Data, ulong Inode, ulong Device);

/// <summary>One watch of an inotify instance: watch descriptor, watched inode and its kernel device number, mask.</summary>
public sealed record InotifyWatchInfo(int WatchDescriptor, ulong Inode, ulong Device, uint Mask);

/// <summary>The kind-specific lines of /proc/PID/fdinfo/N for descriptors on anonymous kernel objects.</summary>
public static class KernelObjectFdInfo
{
    public static EventFdInfo ParseEventFd(string text)
    {
        ulong? count = null;
        var semaphore = false;
        foreach (var (key, value) in Lines(text))
        {
            if (key == "eventfd-count") count = Hex(value);
            else if (key == "eventfd-semaphore") semaphore = value == "1";
        }
        return new EventFdInfo(count ?? throw Missing("eventfd-count"), semaphore);
    }

    public static TimerFdInfo ParseTimerFd(string text)
    {
        int? clock = null;
        ulong ticks = 0;
        var flags = 0;
        long? value = null, interval = null;
        foreach (var (key, v) in Lines(text))
        {
            switch (key)
            {
                case "clockid": clock = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "ticks": ticks = ulong.Parse(v, CultureInfo.InvariantCulture); break;
                case "settime flags": flags = Convert.ToInt32(v, 8); break;
                case "it_value": value = TimeSpec(v); break;
                case "it_interval": interval = TimeSpec(v); break;
            }
        }
        return new TimerFdInfo(clock ?? throw Missing("clockid"), ticks, flags, value ?? throw Missing("it_value"), interval ?? throw Missing("it_interval"));
    }

    /// <summary>The signal mask of a signalfd (bit N-1 for signal N).</summary>
    public static ulong ParseSignalFd(string text)
    {
        foreach (var (key, value) in Lines(text))
            if (key == "sigmask") return Hex(value);
        throw Missing("sigmask");
    }

    public static List<EpollRegistrationInfo> ParseEpoll(string text)
    {
        var result = new List<EpollRegistrationInfo>();
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith("tfd:", StringComparison.Ordinal)) continue;
            var f = Fields(line);
            result.Add(new EpollRegistrationInfo(int.Parse(f["tfd"], CultureInfo.InvariantCulture), (uint)Hex(f["events"]), Hex(f["data"]),
                Hex(f.GetValueOrDefault("ino", "0")), Hex(f.GetValueOrDefault("sdev", "0"))));
        }
        return result;
    }

    public static List<InotifyWatchInfo> ParseInotify(string text)
    {
        var result = new List<InotifyWatchInfo>();
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith("inotify ", StringComparison.Ordinal)) continue;
            var f = Fields(line["inotify ".Length..]);
            result.Add(new InotifyWatchInfo(int.Parse(f["wd"], CultureInfo.InvariantCulture), Hex(f["ino"]), Hex(f["sdev"]), (uint)Hex(f["mask"])));
        }
        return result;
    }

    /// <summary>"key: value" lines (the key may hold a space, as "settime flags" does).</summary>
    private static IEnumerable<(string Key, string Value)> Lines(string text)
    {
        foreach (var line in text.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0) yield return (line[..colon], line[(colon + 1)..].Trim());
        }
    }

    /// <summary>"k1: v1 k2:v2 ..." on one line, the value either right after the colon or as the next word.</summary>
    private static Dictionary<string, string> Fields(string line)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        var words = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < words.Length; i++)
        {
            var colon = words[i].IndexOf(':', StringComparison.Ordinal);
            if (colon < 0) continue;
            if (colon < words[i].Length - 1) fields[words[i][..colon]] = words[i][(colon + 1)..];
            else if (i + 1 < words.Length) fields[words[i][..colon]] = words[++i];
        }
        return fields;
    }

    /// <summary>"(seconds, nanoseconds)" as nanoseconds.</summary>
    private static long TimeSpec(string value)
    {
        var parts = value.Trim('(', ')').Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length != 2) throw new FormatException($"fdinfo time '{value}' is not (seconds, nanoseconds)");
        return checked(long.Parse(parts[0], CultureInfo.InvariantCulture) * 1_000_000_000 + long.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    private static ulong Hex(string value) => ulong.Parse(value.Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    private static FormatException Missing(string field) => new($"fdinfo has no '{field}' line");
}
