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
}

/// <summary>One node: its address, its resource limits, and the daemons started in it.</summary>
public sealed record NodeState(int Id, string Address, double Cpus, long? MemoryLimitBytes)
{
    public int? DaemonPid { get; init; }
    public int? DiscoverPid { get; init; }
}
