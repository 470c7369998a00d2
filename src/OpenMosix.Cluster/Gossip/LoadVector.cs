using System.Net;

namespace OpenMosix.Cluster.Gossip;

public enum NodeState : byte
{
    Alive = 0,
    Suspect = 1,
    Dead = 2,
}

[Flags]
public enum NodeFlags : byte
{
    None = 0,
    /// <summary>Accepts no incoming processes.</summary>
    Blocked = 1,
    /// <summary>Takes part in the cluster but sends no load information for balancing decisions.</summary>
    Quiet = 2,
    /// <summary>Its processes stay home.</summary>
    Stay = 4,
    /// <summary>Its locally started processes stay home.</summary>
    LocalStay = 8,
}

/// <summary>
/// What a node tells the cluster about itself. <see cref="Load"/> is already normalised by <see cref="Speed"/>
/// (a reference CPU has speed <see cref="ReferenceSpeed"/>); memory is in bytes; <see cref="Version"/> only grows
/// for a given origin, so the highest version of a node's vector is its newest.
/// </summary>
public sealed record LoadVector(
    ushort NodeId,
    IPAddress Address,
    NodeState State,
    double Load,
    uint Speed,
    ushort Cpus,
    uint Capacity,
    ulong TotalMemory,
    ulong FreeMemory,
    NodeFlags Flags,
    ulong Version)
{
    public const uint ReferenceSpeed = 10000;
    public const ushort FullUtilization = 1000;

    /// <summary>Share of the node's CPU capacity in use, in thousandths (0-1000): `mosctl getutil`.</summary>
    public ushort Utilization { get; init; }
}
