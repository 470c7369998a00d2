using System.Diagnostics;
using OpenMosix.Cluster.Gossip;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Daemon.Measurement;

/// <summary>
/// Samples this node's run queue, CPU use and memory. When omd runs in a cgroup of its own (a lab node, or a
/// machine that sets omd's share apart) only that cgroup counts; otherwise the whole machine does.
/// </summary>
public sealed class LocalSampler
{
    private readonly CgroupV1 _cgroup;
    private readonly LoadAverage _average;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly int _self = Environment.ProcessId;
    private (TimeSpan At, TimeSpan Busy, double Total)? _lastCpu;

    public LocalSampler(CgroupV1 cgroup, NodeResources resources, TimeSpan halfLife)
    {
        _cgroup = cgroup;
        Resources = resources;
        _average = new LoadAverage(halfLife, halfLife < RiseHalfLife ? halfLife : RiseHalfLife);
    }

    /// <summary>How fast the gossiped load follows a rise (load.half_life_ms is how fast it follows a fall).</summary>
    public static readonly TimeSpan RiseHalfLife = TimeSpan.FromMilliseconds(500);

    public NodeResources Resources { get; set; }

    public LocalSample Sample()
    {
        var now = _clock.Elapsed;
        var queue = _average.Add(CountRunnable(), now);
        var referenceCpus = Resources.Capacity / (double)LoadVector.ReferenceSpeed;
        var (total, free) = ReadMemory();
        return new LocalSample(queue, queue / referenceCpus, Utilization(now), total, free);
    }

    /// <summary>Reads this node's resources: online CPUs, the cgroup CPU quota and memory limit.</summary>
    public static NodeResources Discover(CgroupV1 cgroup, uint speed)
    {
        var online = Environment.ProcessorCount;
        var quota = cgroup.CpuLimit();
        var effective = quota is { } q ? Math.Min(q, online) : online;
        var machine = MemInfo.Read().Total;
        var total = cgroup.MemoryLimit() is { } limit ? Math.Min(limit, machine) : machine;
        return new NodeResources(effective, online, speed, total);
    }

    private int CountRunnable()
    {
        if (_cgroup.IsRoot("cpu"))
        {
            // "0.12 0.10 0.05 3/412 9876": the 4th field starts with the running count, which includes this reader.
            var fields = File.ReadAllText("/proc/loadavg").Split(' ');
            var running = int.Parse(fields[3].AsSpan(0, fields[3].IndexOf('/', StringComparison.Ordinal)),
                CultureInfo.InvariantCulture);
            return Math.Max(0, running - 1);
        }
        var count = 0;
        foreach (var tid in _cgroup.Tasks("cpu"))
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{tid}/stat");
                if (stat.Length == 0 || StateOf(stat) != 'R') continue;
                if (ThreadGroupOf(tid) == _self) continue;
                count++;
            }
            catch (IOException)
            {
                // The task exited between listing and reading.
            }
        }
        return count;
    }

    private static char StateOf(string stat)
    {
        var close = stat.LastIndexOf(')');
        return close >= 0 && close + 2 < stat.Length ? stat[close + 2] : '?';
    }

    private static int ThreadGroupOf(int tid)
    {
        foreach (var line in File.ReadLines($"/proc/{tid}/status"))
            if (line.StartsWith("Tgid:", StringComparison.Ordinal))
                return int.Parse(line.AsSpan(5).Trim(), CultureInfo.InvariantCulture);
        return tid;
    }

    /// <summary>This node's memory now: its total (the cgroup limit when lower) and what is free of it.</summary>
    public (ulong Total, ulong Free) ReadMemory()
    {
        var info = MemInfo.Read();
        if (_cgroup.MemoryLimit() is { } limit && limit < info.Total)
        {
            var used = _cgroup.MemoryInUse() ?? 0;
            // The machine may run short before the group does.
            return (limit, Math.Min(info.Available, limit > used ? limit - used : 0));
        }
        return (info.Total, info.Available);
    }

    private double Utilization(TimeSpan now)
    {
        var (busy, capacitySeconds) = CpuBusy();
        var last = _lastCpu;
        _lastCpu = (now, busy, capacitySeconds);
        if (last is not { } previous || now <= previous.At) return 0;
        var wall = (now - previous.At).TotalSeconds;
        var used = (busy - previous.Busy).TotalSeconds;
        if (!_cgroup.IsRoot("cpuacct"))
            return Math.Clamp(used / (wall * Resources.EffectiveCpus), 0, 1);
        var elapsed = capacitySeconds - previous.Total;
        return elapsed <= 0 ? 0 : Math.Clamp(used / elapsed, 0, 1);
    }

    /// <summary>CPU time used (by the cgroup, or the machine), and for the machine also the total CPU time that passed.</summary>
    private (TimeSpan Busy, double TotalSeconds) CpuBusy()
    {
        if (!_cgroup.IsRoot("cpuacct") && _cgroup.CpuUsage() is { } usage)
            return (usage, 0);
        // First line of /proc/stat: "cpu user nice system idle iowait irq softirq steal ..." in clock ticks (USER_HZ=100).
        using var reader = new StreamReader("/proc/stat");
        var fields = (reader.ReadLine() ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        double Field(int i) => fields.Length > i ? double.Parse(fields[i], CultureInfo.InvariantCulture) / 100 : 0;
        var busy = Field(1) + Field(2) + Field(3) + Field(6) + Field(7) + Field(8);
        var total = busy + Field(4) + Field(5);
        return (TimeSpan.FromSeconds(busy), total);
    }
}
