using System.Collections.Immutable;
using System.Net;

namespace OpenMosix.Cluster.Map;

/// <summary>One node of the map: its id, the address it is reached at, and extra addresses it may speak from.</summary>
public sealed record ClusterNode(ushort Id, IPAddress Address, ImmutableArray<IPAddress> Aliases)
{
    public bool Equals(ClusterNode? other) =>
        other is not null && Id == other.Id && Address.Equals(other.Address) && Aliases.SequenceEqual(other.Aliases);

    public override int GetHashCode() => HashCode.Combine(Id, Address);
}
