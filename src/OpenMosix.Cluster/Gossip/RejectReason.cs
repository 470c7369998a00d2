namespace OpenMosix.Cluster.Gossip;

/// <summary>Why a received gossip packet was dropped.</summary>
public enum RejectReason
{
    TooShort,
    TooLong,
    BadMagic,
    UnsupportedVersion,
    BadCount,
    BadMac,
    Replayed,
    Stale,
    BadEntry,
}
