namespace OpenMosix.Lab;

/// <summary>`om lab status`: the lab as it is now (read from the kernel, not only from the state file).</summary>
public sealed record LabStatus(string Name, string Subnet, string Bridge, bool Discovery, DateTimeOffset Created, IReadOnlyList<NodeStatus> Nodes);

/// <summary>
/// One node: its address, whether its namespace exists, its cgroup limits, its daemons, and the faults injected into
/// it (killed, network cut as the bridge shows it, netem, how often omd was restarted and the node revived).
/// </summary>
public sealed record NodeStatus(
    int Id,
    string Address,
    bool NetnsPresent,
    long? CpuQuotaMicroseconds,
    double? Cpus,
    long? MemoryLimitBytes,
    int? DaemonPid,
    bool DaemonAlive,
    bool DaemonSocketReady,
    int? DiscoverPid,
    bool DiscoverAlive,
    bool Killed,
    bool NetworkCut,
    State.NetemSettings? Netem,
    int DaemonRestarts,
    int Revivals);
