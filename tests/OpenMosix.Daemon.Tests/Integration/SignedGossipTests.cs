using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Integration;

public sealed class SignedGossipTests
{
    [Fact]
    public void Nodes_with_certificates_of_one_ca_sign_their_gossip_and_see_each_other_alive()
    {
        using var cluster = new LoopbackCluster(2);
        using var authority = new TestAuthority(DateTimeOffset.UtcNow);
        authority.WriteNodeDirectory(cluster.TlsDirectory(1), 1);
        authority.WriteNodeDirectory(cluster.TlsDirectory(2), 2);
        cluster.Start(1, 2);

        Poll.Until(() => cluster.StateSeenBy(1, 2) == "alive" && cluster.StateSeenBy(2, 1) == "alive", TimeSpan.FromSeconds(15),
            "both signing nodes to see each other alive");
        Assert.Contains("entries signed by origin (required)", File.ReadAllText(cluster.LogPath(1)), StringComparison.Ordinal);
    }

    [Fact]
    public void A_node_without_a_certificate_is_not_heard_by_signing_nodes()
    {
        using var cluster = new LoopbackCluster(2);
        using var authority = new TestAuthority(DateTimeOffset.UtcNow);
        authority.WriteNodeDirectory(cluster.TlsDirectory(1), 1);
        cluster.Start(1, 2);

        Poll.Until(() =>
        {
            using var client = cluster.Client(1);
            return client.GossipStatsAsync().GetAwaiter().GetResult().Rejected.GetValueOrDefault("unsigned") >= 2;
        }, TimeSpan.FromSeconds(15), "node 1 to refuse node 2's unsigned packets");
        Assert.NotEqual("alive", cluster.StateSeenBy(1, 2));
    }
}
