namespace OpenMosix.Cluster.Gossip;

/// <summary>
/// Why a received gossip packet, or one entry of it, was dropped. The first group refuses the whole packet; the
/// entry reasons (<see cref="UnknownOrigin"/> and after) drop only that entry and count once per entry.
/// </summary>
public enum RejectReason
{
    TooShort,
    TooLong,
    BadMagic,
    UnsupportedVersion,
    BadCount,
    /// <summary>Decryption failed: a wrong key, or any byte changed.</summary>
    BadMac,
    Replayed,
    Stale,
    BadEntry,
    /// <summary>Sent under a key id this node's keyring does not hold (retired, or not yet copied here).</summary>
    UnknownKey,
    /// <summary>This node requires origin signatures and the packet has none.</summary>
    Unsigned,
    /// <summary>The sender's certificate did not chain to a cluster CA or names another node.</summary>
    BadCertificate,
    /// <summary>An entry of a node whose certificate is not known yet (it comes with that node's own packets).</summary>
    UnknownOrigin,
    /// <summary>An entry whose signature is not its origin's: forged or altered by a relayer.</summary>
    BadSignature,
    /// <summary>An entry whose version runs ahead of the clock (versions are time-based, docs/gossip.md).</summary>
    FutureVersion,
}
