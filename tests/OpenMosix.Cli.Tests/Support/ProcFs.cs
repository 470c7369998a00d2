using System.Globalization;

namespace OpenMosix.Cli.Tests.Support;

/// <summary>What the tests observe about a live process through /proc (this kernel has no /proc/PID/task/TID/children).</summary>
internal static class ProcFs
{
    public static bool IsAlive(int pid) => State(pid) is { } state && state != 'Z' && state != 'X';

    public static char? State(int pid) => ReadStatFields(pid) is { } fields ? fields[0][0] : null;

    /// <summary>User + system CPU time in clock ticks (USER_HZ, 100 on Linux).</summary>
    public static long CpuTicks(int pid) =>
        ReadStatFields(pid) is { } fields ? long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture) : 0;

    /// <summary>Bytes the process has read through read-like syscalls (rchar of /proc/PID/io).</summary>
    public static long BytesRead(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/io"))
                if (line.StartsWith("rchar:", StringComparison.Ordinal))
                    return long.Parse(line.AsSpan(6).Trim(), CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
        }
        return 0;
    }

    /// <summary>The syscall number the process is blocked in, or null when it is running or gone.</summary>
    public static long? BlockedSyscall(int pid)
    {
        try
        {
            var first = File.ReadAllText($"/proc/{pid}/syscall").Split(' ', 2)[0].Trim();
            return long.TryParse(first, CultureInfo.InvariantCulture, out var number) ? number : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public static IReadOnlyList<int> Children(int parent)
    {
        var children = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), CultureInfo.InvariantCulture, out var pid)) continue;
            if (ReadStatFields(pid) is { } fields && int.Parse(fields[1], CultureInfo.InvariantCulture) == parent && IsAlive(pid))
                children.Add(pid);
        }
        return children;
    }

    /// <summary>Fields of /proc/PID/stat after the command name: [0] is state, [1] ppid, [11] utime, [12] stime.</summary>
    private static string[]? ReadStatFields(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
