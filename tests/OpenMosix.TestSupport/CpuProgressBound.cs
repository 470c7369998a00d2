using System.Diagnostics;
using System.Globalization;

namespace OpenMosix.TestSupport;

/// <summary>
/// A bound on waiting for a process to end that holds on a loaded machine: it runs out once the process and its
/// descendants have neither used CPU time nor waited for a CPU for <paramref name="idle"/> (blocked for good, stopped,
/// hung), or after <paramref name="cap"/> in all (a runaway loop). A process that computes gets the CPU time it needs
/// however thinly the machine shares it: at load 60 on 2 cores a busy program gets about 3 % of a core, 1.7 s of its
/// work takes a minute, and a SCHED_IDLE thread can wait seconds for its turn. Descendants count for programs that
/// hand their work to children (a build runs its compiler).
/// </summary>
public sealed class CpuProgressBound(int pid, TimeSpan idle, TimeSpan cap)
{
    private readonly Stopwatch _total = Stopwatch.StartNew();
    private readonly Stopwatch _sinceProgress = Stopwatch.StartNew();
    private readonly Stopwatch _sinceRead = new();
    private long _cpu = -1;

    /// <summary><paramref name="idle"/> without CPU progress, ten times that in all.</summary>
    public CpuProgressBound(int pid, TimeSpan idle) : this(pid, idle, idle * 10)
    {
    }

    /// <summary>False once the bound has run out; called between polls.</summary>
    public bool Holds()
    {
        // Reading every process's stat is not free: at most four times a second (a tick is 10 ms of CPU).
        if (!_sinceRead.IsRunning || _sinceRead.ElapsedMilliseconds >= 250)
        {
            _sinceRead.Restart();
            var (cpu, runnable) = Progress(pid);
            if (cpu != _cpu || runnable)
            {
                _cpu = cpu;
                _sinceProgress.Restart();
            }
        }
        return _sinceProgress.Elapsed <= idle && _total.Elapsed <= cap;
    }

    /// <summary>What ran out, for a failure message.</summary>
    public override string ToString() => _total.Elapsed > cap
        ? $"within {cap.TotalSeconds:F0} s"
        : $"within {_total.Elapsed.TotalSeconds:F0} s, the last {idle.TotalSeconds:F0} s without using or waiting for the CPU";

    /// <summary>The user and system time of the process's threads, of its children it waited for and of its living
    /// descendants (/proc/PID/stat fields 14 to 17), in clock ticks (-1 once it is gone); and whether one of its threads
    /// or descendants is runnable, waiting for a CPU.</summary>
    private static (long Ticks, bool Runnable) Progress(int pid)
    {
        if (Read(pid) is not { } own) return (-1, false);
        var runnable = false;
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
                runnable |= Read(pid, int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture))?.State == 'R';
        }
        catch (DirectoryNotFoundException)
        {
        }
        var children = new Dictionary<int, List<int>>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var other) || other == pid) continue;
            if (Read(other) is { } stat) (children.TryGetValue(stat.Parent, out var list) ? list : children[stat.Parent] = []).Add(other);
        }
        var total = own.Ticks;
        var pending = new Stack<int>(children.GetValueOrDefault(pid) ?? []);
        while (pending.TryPop(out var descendant))
        {
            if (Read(descendant) is { } stat)
            {
                total += stat.Ticks;
                runnable |= stat.State == 'R';
            }
            foreach (var next in children.GetValueOrDefault(descendant) ?? []) pending.Push(next);
        }
        return (total, runnable);
    }

    private static (int Parent, char State, long Ticks)? Read(int pid, int? task = null)
    {
        try
        {
            var stat = File.ReadAllText(task is { } tid ? $"/proc/{pid}/task/{tid}/stat" : $"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            long Field(int number) => long.Parse(fields[number - 3], CultureInfo.InvariantCulture);
            return ((int)Field(4), fields[0][0], Field(14) + Field(15) + Field(16) + Field(17));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
