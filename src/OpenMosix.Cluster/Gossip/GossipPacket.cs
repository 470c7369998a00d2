using System.Collections.Immutable;

namespace OpenMosix.Cluster.Gossip;

/// <summary>A decoded, authenticated gossip packet.</summary>
public sealed record GossipPacket(ushort Sender, ulong Sequence, DateTimeOffset Timestamp, ImmutableArray<LoadVector> Entries);
