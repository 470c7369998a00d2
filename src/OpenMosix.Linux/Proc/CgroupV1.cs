using System.Globalization;

namespace OpenMosix.Linux.Proc;

/// <summary>
/// The cgroup v1 directories a process belongs to, one per controller, and the few files omd reads from them:
/// CPU quota, memory limit and usage, and the tasks in the group. Paths are absolute under /sys/fs/cgroup.
/// </summary>
public sealed class CgroupV1
{
    private readonly Dictionary<string, string> _directories;
    private readonly HashSet<string> _atRoot;

    private CgroupV1(Dictionary<string, string> directories, HashSet<string> atRoot)
    {
        _directories = directories;
        _atRoot = atRoot;
    }

    public const string Root = "/sys/fs/cgroup";

    public static CgroupV1 OfSelf() => Parse(File.ReadAllText("/proc/self/cgroup"), Root);

    /// <summary>Parses /proc/PID/cgroup ("id:controllers:path" lines); a controller mounted jointly ("cpu,cpuacct")
    /// is found under either name.</summary>
    public static CgroupV1 Parse(string procCgroup, string root)
    {
        var directories = new Dictionary<string, string>(StringComparer.Ordinal);
        var atRoot = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (controllers, path) in Entries(procCgroup))
        {
            if (controllers.Length == 0) continue;
            foreach (var controller in controllers.Split(','))
            {
                var mount = FindMount(root, controller, controllers);
                if (mount is null) continue;
                directories[controller] = Path.Join(mount, path);
                if (path == "/") atRoot.Add(controller);
            }
        }
        return new CgroupV1(directories, atRoot);
    }

    /// <summary>The lines of /proc/PID/cgroup ("id:controllers:path"): the controllers ("" for the v2 hierarchy and
    /// for named v1 ones, "name=..." there) and the path in that hierarchy.</summary>
    public static IEnumerable<(string Controllers, string Path)> Entries(string procCgroup)
    {
        ArgumentNullException.ThrowIfNull(procCgroup);
        foreach (var line in procCgroup.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            if (line.Split(':', 3) is [_, var controllers, var path]) yield return (controllers, path);
    }

    /// <summary>CPUs' worth of time the group may use (quota / period), or null without a quota.</summary>
    public double? CpuLimit()
    {
        var quota = ReadNumber("cpu", "cpu.cfs_quota_us");
        var period = ReadNumber("cpu", "cpu.cfs_period_us");
        if (quota is null || period is null || quota <= 0 || period <= 0) return null;
        return (double)quota / period.Value;
    }

    /// <summary>The memory limit in bytes, or null when unlimited (v1 reports "unlimited" as a huge number).</summary>
    public ulong? MemoryLimit()
    {
        var limit = ReadNumber("memory", "memory.limit_in_bytes");
        return limit is null or <= 0 or >= long.MaxValue / 2 ? null : (ulong)limit.Value;
    }

    /// <summary>Memory the group holds that it cannot give back without swapping: usage minus reclaimable file cache.</summary>
    public ulong? MemoryInUse()
    {
        var usage = ReadNumber("memory", "memory.usage_in_bytes");
        if (usage is null) return null;
        var inactiveFile = ReadStat("memory", "memory.stat", "total_inactive_file") ?? 0;
        return (ulong)Math.Max(0, usage.Value - inactiveFile);
    }

    /// <summary>Total CPU time the group has used, from cpuacct.</summary>
    public TimeSpan? CpuUsage()
    {
        var nanoseconds = ReadNumber("cpuacct", "cpuacct.usage");
        return nanoseconds is null ? null : TimeSpan.FromTicks(nanoseconds.Value / 100);
    }

    /// <summary>Thread ids in the group of <paramref name="controller"/>.</summary>
    public IReadOnlyList<int> Tasks(string controller)
    {
        var text = ReadFile(controller, "tasks");
        if (text is null) return [];
        var tasks = new List<int>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var tid))
                tasks.Add(tid);
        return tasks;
    }

    /// <summary>True when the group of <paramref name="controller"/> is the hierarchy's root (nothing set apart).</summary>
    public bool IsRoot(string controller) => _atRoot.Contains(controller) || !_directories.ContainsKey(controller);

    private long? ReadNumber(string controller, string file) =>
        ReadFile(controller, file) is { } text
        && long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : null;

    private long? ReadStat(string controller, string file, string key)
    {
        var text = ReadFile(controller, file);
        if (text is null) return null;
        foreach (var line in text.Split('\n'))
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space > 0 && line.AsSpan(0, space).SequenceEqual(key)
                && long.TryParse(line.AsSpan(space + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                return value;
        }
        return null;
    }

    private string? ReadFile(string controller, string file)
    {
        if (!_directories.TryGetValue(controller, out var directory)) return null;
        try
        {
            return File.ReadAllText(Path.Join(directory, file));
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

    private static string? FindMount(string root, string controller, string joined)
    {
        foreach (var candidate in new[] { Path.Join(root, joined), Path.Join(root, controller) })
            if (Directory.Exists(candidate))
                return candidate;
        return null;
    }
}
