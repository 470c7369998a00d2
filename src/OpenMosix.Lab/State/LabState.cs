namespace OpenMosix.Lab.State;

/// <summary>What `om lab up` created, kept in /run/omlab/NAME/state.json for status, exec and down.</summary>
public sealed record LabState(
    string Name,
    int Subnet,
    bool Discovery,
    DateTimeOffset Created,
    IReadOnlyList<NodeState> Nodes)
{
    public NodeState Node(int id) => Nodes.FirstOrDefault(n => n.Id == id)
        ?? throw new LabException($"lab {Name} has no node {id} (it has nodes 1 to {Nodes.Count})");
}

/// <summary>One node: its address, its resource limits, and the daemons started in it.</summary>
public sealed record NodeState(int Id, string Address, double Cpus, long? MemoryLimitBytes)
{
    public int? DaemonPid { get; init; }
    public int? DiscoverPid { get; init; }
}
