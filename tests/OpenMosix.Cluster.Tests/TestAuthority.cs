using OpenMosix.Cluster.Gossip.Origins;
using OpenMosix.Cluster.Keys;
using OpenMosix.TestSupport;

namespace OpenMosix.Cluster.Tests;

internal static class TestAuthorityOrigins
{
    public static CertificateOriginKeys Origins(this TestAuthority authority, ushort node, DateTimeOffset now)
    {
        using var own = authority.Issue(node);
        return new CertificateOriginKeys(own, [authority.Certificate], () => now);
    }
}

internal static class TestKeys
{
    public static Keyring Ring(params (ushort Id, byte Seed)[] keys) =>
        Keyring.Of(keys.Select(k => new ClusterSecret(k.Id, DateTimeOffset.UnixEpoch.AddDays(k.Id), DateTimeOffset.UnixEpoch.AddDays(k.Id),
            [.. Enumerable.Range(k.Seed, 32).Select(i => (byte)i)])));

    public static PacketKeys Gossip(params (ushort Id, byte Seed)[] keys) => PacketKeys.ForGossip(Ring(keys));
}
