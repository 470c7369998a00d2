using OpenMosix.Cluster.Keys;

namespace OpenMosix.Fuzz.Tests.Targets;

/// <summary>The keyring and the clock the cluster targets share: fixed, so the checked-in packets stay valid.</summary>
internal static class ClusterKey
{
    public static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(30);

    private static readonly Keyring Ring = Keyring.Of(
        [new ClusterSecret(1, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, [.. Enumerable.Range(1, 32).Select(i => (byte)(i * 7))])]);

    public static PacketKeys Gossip() => PacketKeys.ForGossip(Ring);

    public static PacketKeys Discovery() => PacketKeys.ForDiscovery(Ring);
}
