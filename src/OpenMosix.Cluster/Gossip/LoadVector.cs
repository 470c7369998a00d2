using System.Net;

namespace OpenMosix.Cluster.Gossip;

/// <summary>What the gossip makes of a node (a byte of its entry on the wire; docs/gossip.md, failure detection).</summary>
public enum NodeState : byte
{
    /// <summary>Its entry was refreshed within the suspect timeout; any refresh makes a node alive again.</summary>
    Alive = 0,
    /// <summary>Not refreshed for the suspect timeout: omd sends it no processes until it is alive again.</summary>
    Suspect = 1,
    /// <summary>Not refreshed for the dead timeout either: taken to be down.</summary>
    Dead = 2,
}

/// <summary>A node's mosctl switches as it gossips them (a byte of its entry on the wire).</summary>
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

    /// <summary>The node protocol versions the node speaks, as it gossips them (format 3); null from a node that does
    /// not say (an older build): its versions are then learnt only when a link is made.</summary>
    public Transport.ProtocolRange? Protocols { get; init; }
}
