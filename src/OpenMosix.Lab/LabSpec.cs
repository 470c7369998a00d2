namespace OpenMosix.Lab;

/// <summary>What `om lab up` was asked for, already checked.</summary>
public sealed record LabSpec(LabName Name, IReadOnlyList<NodeResources> Nodes, bool Discovery, bool StartDaemons, TimeSpan ReadyTimeout)
{
    /// <summary>Whether the nodes' omd balance load on their own (off: processes move only when told).</summary>
    public bool Balance { get; init; } = true;

    /// <summary>.254 is the bridge's own address, so a lab has at most 253 nodes.</summary>
    public const int MaxNodes = 253;
}

/// <summary>A node's share of the machine: CPUs as a CFS quota, and an optional memory limit.</summary>
public sealed record NodeResources(double Cpus, long? MemoryLimitBytes);
