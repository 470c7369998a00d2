using OpenMosix.Cluster.Gossip.Origins;
using OpenMosix.Cluster.Keys;
using OpenMosix.TestSupport;

namespace OpenMosix.Cluster.Tests;

/// <summary>What the signed-gossip tests share: one cluster's packet keys and a CA that certifies each node's origin
/// keys as of <paramref name="start"/>; every key made is disposed with it.</summary>
internal sealed class SignedGossipCluster(DateTimeOffset start) : IDisposable
{
    private readonly TestAuthority _authority = new(start);
    private readonly List<IDisposable> _owned = [];

    public PacketKeys Keys { get; } = TestKeys.Gossip((1, 100));

    /// <summary>Node <paramref name="id"/>'s origin keys, certified by the cluster's CA.</summary>
    public CertificateOriginKeys Origins(ushort id)
    {
        var origins = _authority.Origins(id, start);
        _owned.Add(origins);
        return origins;
    }

    /// <summary>The one packet of a round addressed to <paramref name="destination"/>.</summary>
    public static byte[] To(IReadOnlyList<(ushort Destination, byte[] Packet)> packets, ushort destination) =>
        packets.Single(p => p.Destination == destination).Packet;

    public void Dispose()
    {
        foreach (var owned in _owned) owned.Dispose();
        Keys.Dispose();
        _authority.Dispose();
    }
}
