namespace OpenMosix.Lab.State;

/// <summary>What `om lab up` created, kept in /run/omlab/NAME/state.json for `om lab status` (down finds a lab by name alone).</summary>
public sealed record LabState(
    string Name,
    int Subnet,
    bool Discovery,
    DateTimeOffset Created,
    IReadOnlyList<NodeState> Nodes)
{
    public bool Balance { get; init; } = true;

    /// <summary>How often the nodes' omd checkpoint processes running away (checkpoint.interval_ms; 0: never).</summary>
    public int CheckpointIntervalMs { get; init; } = LabSpec.DefaultCheckpointIntervalMs;

    /// <summary>migration.postcopy of the nodes' omd (auto, never, always); null: omd's default.</summary>
    public string? Postcopy { get; init; }

    /// <summary>migration.precopy_rounds of the nodes' omd; null: omd's default.</summary>
    public int? PrecopyRounds { get; init; }

    /// <summary>migration.bandwidth_limit_mib_s of the nodes' omd (MiB/s); null: omd's default (no limit).</summary>
    public int? BandwidthLimit { get; init; }
}

/// <summary>
/// One node: its address, its resource limits, the daemons started in it, and the faults injected into it (`om lab
/// kill`, `cut`, `netem`, `restart`), so that status shows what a test or benchmark did to the node.
/// </summary>
public sealed record NodeState(int Id, string Address, double Cpus, long? MemoryLimitBytes)
{
    public int? DaemonPid { get; init; }
    public int? DiscoverPid { get; init; }
    /// <summary>Crashed by `om lab kill`: no process runs in it and its network is cut, until `om lab revive`.</summary>
    public bool Killed { get; init; }
    /// <summary>Partitioned by `om lab cut` until `om lab heal`.</summary>
    public bool Cut { get; init; }
    /// <summary>The delay and loss `om lab netem` put on the node's link; null when there is none.</summary>
    public NetemSettings? Netem { get; init; }
    /// <summary>The process that delays the node's link where the kernel has no netem (DelayRelay); null: none.</summary>
    public int? DelayRelayPid { get; init; }
    /// <summary>How many times `om lab restart` restarted the node's omd.</summary>
    public int DaemonRestarts { get; init; }
    /// <summary>How many times `om lab revive` brought the node back after `om lab kill`.</summary>
    public int Revivals { get; init; }
}
