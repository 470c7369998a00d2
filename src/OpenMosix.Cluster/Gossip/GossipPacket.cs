using System.Collections.Immutable;

namespace OpenMosix.Cluster.Gossip;

/// <summary>
/// A decrypted, authenticated gossip packet. <see cref="Signatures"/> is empty for an unsigned packet, else holds
/// each entry's origin signature (unchecked: the codec knows no public keys); <see cref="Certificate"/> is the
/// sender's own certificate (DER) when it came along.
/// </summary>
public sealed record GossipPacket(ushort Sender, ulong Sequence, DateTimeOffset Timestamp, ImmutableArray<LoadVector> Entries)
{
    public ImmutableArray<byte[]> Signatures { get; init; } = [];
    public byte[]? Certificate { get; init; }
    public ushort KeyId { get; init; }
    /// <summary>The gossip format it came in: <see cref="GossipCodec.LegacyFormat"/> from a node that does not gossip
    /// its protocol versions.</summary>
    public byte Format { get; init; } = GossipCodec.FormatVersion;
    public bool IsSigned => !Signatures.IsEmpty;
}

/// <summary>The clear part of a packet that names it: its sender, the sender's per-run salt and the packet's sequence.</summary>
public readonly record struct PacketHeader(ushort Sender, ushort Salt, ulong Sequence);
