namespace OpenMosix.Cluster.Gossip.Origins;

/// <summary>
/// Who may speak for which node: this node signs its own gossip entries and discovery announcements, and checks
/// the signatures of everyone else's with the public key of their origin, learnt from the certificates peers send.
/// Kept behind an interface so the codec and <see cref="GossipNode"/> stay pure and testable.
/// </summary>
public interface IOriginKeys
{
    /// <summary>The node this node's certificate names.</summary>
    ushort OwnNode { get; }

    /// <summary>This node's certificate (DER), sent along so peers learn its public key.</summary>
    ReadOnlyMemory<byte> OwnCertificate { get; }

    /// <summary>Signs <paramref name="data"/> with this node's private key: <see cref="OriginSignature.Size"/> bytes.</summary>
    byte[] Sign(ReadOnlySpan<byte> data);

    /// <summary>
    /// Takes a certificate a node sent for itself: true once it is known to be signed by a cluster CA and to name
    /// <paramref name="node"/> (then signatures of that node can be checked); false, and nothing learnt, otherwise.
    /// </summary>
    bool Learn(ushort node, ReadOnlySpan<byte> certificate);

    /// <summary>Whether a valid certificate of <paramref name="node"/> is known.</summary>
    bool Knows(ushort node);

    /// <summary>True when <paramref name="signature"/> over <paramref name="data"/> is <paramref name="node"/>'s; false when not or unknown.</summary>
    bool Verify(ushort node, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature);
}

public static class OriginSignature
{
    /// <summary>ECDSA P-256, r ‖ s (IEEE P1363).</summary>
    public const int Size = 64;
}
