using System.Globalization;

namespace OpenMosix.Lab.Host;

/// <summary>
/// A node's cgroup v1 groups: cpu (CFS quota over a 100 ms period), memory (hard limit) and cpuacct (CPU time used,
/// which omd reports as utilisation; on machines where cpu and cpuacct are mounted together it is the same group).
/// All live under omlab-NAME in each hierarchy, so that everything of one lab can be found, and emptied, by name.
/// </summary>
public sealed class NodeCgroups(string cpuDirectory, string memoryDirectory, string cpuacctDirectory)
{
    public const long PeriodMicroseconds = 100_000;

    public string CpuDirectory { get; } = cpuDirectory;
    public string MemoryDirectory { get; } = memoryDirectory;

    public string CpuacctDirectory { get; } = cpuacctDirectory;

    public static NodeCgroups Of(LabLayout layout, int node) =>
        new(layout.CpuCgroup(node), layout.MemoryCgroup(node), layout.CpuacctCgroup(node));

    private bool SeparateCpuacct => Directory.Exists(LabLayout.CgroupCpuacctRoot)
        && Path.GetFullPath(LabLayout.CgroupCpuacctRoot) != Path.GetFullPath(LabLayout.CgroupCpuRoot)
        && File.Exists(Path.Combine(LabLayout.CgroupCpuacctRoot, "cgroup.procs"))
        && !File.Exists(Path.Combine(LabLayout.CgroupCpuRoot, "cpuacct.usage"));

    /// <summary>The lab needs the v1 cpu and memory controllers; says so in one line when they are missing.</summary>
    public static void RequireControllers()
    {
        foreach (var (root, controller) in new[] { (LabLayout.CgroupCpuRoot, "cpu"), (LabLayout.CgroupMemoryRoot, "memory") })
            if (!File.Exists(Path.Combine(root, "cgroup.procs")))
                throw new LabException($"check cgroups: the cgroup v1 {controller} controller is not mounted at {root}");
    }

    public void Create(double cpus, long? memoryLimitBytes)
    {
        Directory.CreateDirectory(CpuDirectory);
        Directory.CreateDirectory(MemoryDirectory);
        if (SeparateCpuacct) Directory.CreateDirectory(CpuacctDirectory);
        var quota = (long)Math.Round(cpus * PeriodMicroseconds);
        Write(CpuDirectory, "cpu.cfs_period_us", PeriodMicroseconds);
        Write(CpuDirectory, "cpu.cfs_quota_us", quota);
        if (memoryLimitBytes is { } limit)
        {
            Write(MemoryDirectory, "memory.limit_in_bytes", limit);
            // A node out of memory behaves the same on a machine with swap as on one without: its processes are
            // killed, never swapped (a swapping node would hide what ushering is for).
            Write(MemoryDirectory, "memory.swappiness", 0);
        }
    }

    /// <summary>Moves a whole process (all its threads) into both groups.</summary>
    public void Join(int pid)
    {
        Write(CpuDirectory, "cgroup.procs", pid);
        Write(MemoryDirectory, "cgroup.procs", pid);
        if (Directory.Exists(CpuacctDirectory)) Write(CpuacctDirectory, "cgroup.procs", pid);
    }

    public long? CpuQuotaMicroseconds => ReadNumber(CpuDirectory, "cpu.cfs_quota_us");
    public long? MemoryLimitBytes => ReadNumber(MemoryDirectory, "memory.limit_in_bytes");

    /// <summary>The PIDs in the cgroup directories below (and including) <paramref name="directory"/>.</summary>
    public static IEnumerable<int> ProcessesUnder(string directory)
    {
        if (!Directory.Exists(directory)) yield break;
        foreach (var sub in Directory.EnumerateDirectories(directory))
            foreach (var pid in ProcessesUnder(sub)) yield return pid;
        string[] lines;
        try
        {
            lines = File.ReadAllLines(Path.Combine(directory, "cgroup.procs"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            yield break;
        }
        foreach (var line in lines)
            if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) yield return pid;
    }

    /// <summary>Removes <paramref name="directory"/> and the cgroups below it (each must be empty of processes).</summary>
    public static IReadOnlyList<string> RemoveTree(string directory)
    {
        var failures = new List<string>();
        if (!Directory.Exists(directory)) return failures;
        foreach (var sub in Directory.EnumerateDirectories(directory)) failures.AddRange(RemoveTree(sub));
        try
        {
            // rmdir on a cgroup: its control files are not real files and go with it.
            Directory.Delete(directory, recursive: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            failures.Add($"remove cgroup {directory}: {e.Message}");
        }
        return failures;
    }

    private static void Write(string directory, string file, long value)
    {
        var path = Path.Combine(directory, file);
        try
        {
            File.WriteAllText(path, value.ToString(CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LabException($"write {value} to {path}: {e.Message}", e);
        }
    }

    private static long? ReadNumber(string directory, string file)
    {
        try
        {
            return long.TryParse(File.ReadAllText(Path.Combine(directory, file)).Trim(), NumberStyles.AllowLeadingSign,
                CultureInfo.InvariantCulture, out var value) ? value : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
