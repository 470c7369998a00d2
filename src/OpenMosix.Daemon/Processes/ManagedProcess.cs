using OpenMosix.Balancing.Demand;

namespace OpenMosix.Daemon.Processes;

/// <summary>
/// A process omd manages: started by `om run` here (home), forked by a managed process here (home, its settings
/// inherited from its parent), or restored here for another node (guest). Mutable
/// fields change under the registry's lock only.
/// </summary>
public sealed class ManagedProcess(int pid, uint uid, ushort home, string command)
{
    public int Pid { get; } = pid;
    public uint Uid { get; } = uid;
    public ushort Home { get; } = home;
    /// <summary>Its start time (/proc/PID/stat field 22) when it was registered: a later process under the same PID has
    /// another, and is not this one (0: it had ended before it could be read).</summary>
    public ulong StartTime { get; init; }
    /// <summary>When it was known to be alive as it was registered, on the monotonic clock the kernel stamps its process
    /// reports with (its fork's report, or the moment omd began to register it): a report of an exit from before is
    /// that of an earlier process under the same PID, read late (0: any).</summary>
    public TimeSpan Since { get; init; }
    /// <summary>The command line; re-read while the process is here (om run registers before it execs the program).</summary>
    public string Command { get; set; } = command;
    public ushort Where { get; set; } = home;
    public ProcessState State { get; set; } = ProcessState.Home;
    public int Migrations { get; set; }
    public bool Locked { get; set; }
    /// <summary>The PID of the copy on <see cref="Where"/> (or of this guest here).</summary>
    public int RemotePid { get; set; }
    public IReadOnlyList<string> CantMove { get; set; } = [];
    /// <summary>What it was when it registered (om run, which then execs the user's program); null for any other.</summary>
    public OmStartup? Startup { get; init; }
    /// <summary>How the balancer forgets its past CPU use (om run --slow-decay / --fast-decay / --nodecay); null: the
    /// node's default (<see cref="Balancing.DecaySettings.DefaultMode"/>).</summary>
    public DecayMode? Decay { get; set; }
    /// <summary>What the user said it is (om run --cpujob / --iojob), trusted over the measurement.</summary>
    public JobHint Hint { get; set; }
    /// <summary>The managed process that forked it (0: it registered itself with om run).</summary>
    public int ParentPid { get; init; }
    /// <summary>The guest (its PID here) whose copy forked it or one of its ancestors here (remote fork): that guest's
    /// home lists it as its own (0: none).</summary>
    public int ForkedByGuest { get; init; }
    /// <summary>Where om run asked it to run (--on, --among, --fallback, --home); its descendants inherit it.</summary>
    public RunRequest? Request { get; set; }
    /// <summary>The program it runs since its last exec (null before any exec seen by omd).</summary>
    public string? Program { get; set; }
    /// <summary>When it last exec'd, on the kernel's monotonic clock: its program's lifetime is measured from there.</summary>
    public TimeSpan? ExecutedAt { get; set; }
    /// <summary>Taken by omd while it ran (om adopt, migrate of any PID), not started with om run nor forked by a
    /// managed process: om release gives it back.</summary>
    public bool Adopted { get; init; }
    /// <summary>CPU seconds its copies used on other nodes in stays that ended (a copy's counters start at zero on every node).</summary>
    public double AwayCpuSeconds { get; set; }
    /// <summary>What its copy reported last in the stay under way: CPU seconds there, resident bytes, and its CPU use.</summary>
    public double StayCpuSeconds { get; set; }
    public long RemoteResidentBytes { get; set; }
    public CpuRate RemoteCpu { get; } = new();
    /// <summary>Its CPU use while here, from the samples `om ps` and the files take.</summary>
    public CpuRate LocalCpu { get; } = new();

    /// <summary>The stay away is over (home again, or on its way elsewhere through home): its CPU time is kept.</summary>
    public void EndStay()
    {
        AwayCpuSeconds += StayCpuSeconds;
        StayCpuSeconds = 0;
        RemoteResidentBytes = 0;
        RemoteCpu.Reset();
    }
}
