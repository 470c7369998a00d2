namespace OpenMosix.Admin;

/// <summary>One node as this daemon sees it (`om status`, `mosctl`). Memory in bytes, age in milliseconds.</summary>
public sealed record NodeRow(
    int Id,
    string Address,
    NodeLiveness State,
    double Load,
    long Speed,
    int Cpus,
    long Capacity,
    long TotalMemory,
    long FreeMemory,
    double Utilization,
    IReadOnlyList<string> Flags,
    long AgeMs,
    bool IsSelf)
{
    /// <summary>The node protocol versions the node speaks ("6-7"): this node's own, another's as its hello on the last
    /// node link between the two said (gossip does not carry them); empty while no link has been made with it.</summary>
    public string Protocol { get; init; } = "";
}

/// <summary>The daemon's view of the cluster. Mode: "map" (a map is loaded), or "off" (not in a cluster).</summary>
public sealed record ClusterView(int Self, string Address, string Mode, IReadOnlyList<NodeRow> Nodes);

public sealed record MapNode(int Id, string Address, IReadOnlyList<string> Aliases);

/// <summary>The map in use and where it came from (a file path, "setpe", "omdiscd", or "none").</summary>
public sealed record MapView(string Source, string Text, IReadOnlyList<MapNode> Nodes);

/// <summary>A map to load: its text and a name used in error messages (usually the file it was read from).</summary>
public sealed record MapUpload(string Name, string Text, string Source);

public sealed record MapChange(IReadOnlyList<int> Added, IReadOnlyList<int> Removed, IReadOnlyList<int> Changed);

public sealed record SpeedSetting(long Speed);

/// <summary>Liveness and identity of the daemon, cheap enough to poll.</summary>
public sealed record Health(int Node, string Address, string Mode, int Pid, long UptimeMs);

/// <summary>Gossip traffic counters; rejected packets by reason (too-short, bad-mac, replayed, unknown-sender...).</summary>
public sealed record GossipStats(
    long PacketsSent,
    long PacketsReceived,
    long BytesSent,
    long BytesReceived,
    IReadOnlyDictionary<string, long> Rejected,
    long SuspectAfterMs,
    long DeadAfterMs);

public sealed record ErrorReply(string Error);
