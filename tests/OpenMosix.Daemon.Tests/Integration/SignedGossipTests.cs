using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Integration;

/// <summary>Every node has a certificate of the cluster CA (node links need it), so by default each signs its own gossip
/// entries and takes only entries signed by their origin.</summary>
public sealed class SignedGossipTests
{
    [Fact]
    public void Nodes_with_certificates_of_one_ca_sign_their_gossip_and_see_each_other_alive()
    {
        using var cluster = new LoopbackCluster(2);
        cluster.Start(1, 2);

        Poll.Until(() => cluster.StateSeenBy(1, 2) == "alive" && cluster.StateSeenBy(2, 1) == "alive", TimeSpan.FromSeconds(15),
            "both signing nodes to see each other alive");
        Assert.Contains("entries signed by origin (required)", File.ReadAllText(cluster.LogPath(1)), StringComparison.Ordinal);
    }

    [Fact]
    public void A_node_that_does_not_sign_is_not_heard_by_signing_nodes()
    {
        using var cluster = new LoopbackCluster(2);
        cluster.SetOriginSignatures(2, "off");
        cluster.Start(1, 2);

        Poll.Until(() =>
        {
            using var client = cluster.Client(1);
            return client.GossipStatsAsync().GetAwaiter().GetResult().Rejected.GetValueOrDefault("unsigned") >= 2;
        }, TimeSpan.FromSeconds(15), "node 1 to refuse node 2's unsigned packets");
        Assert.NotEqual("alive", cluster.StateSeenBy(1, 2));
    }
}
