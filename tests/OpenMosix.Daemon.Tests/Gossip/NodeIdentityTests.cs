using System.Net;
using OpenMosix.Cluster.Map;
using OpenMosix.Daemon.Gossip;

namespace OpenMosix.Daemon.Tests.Gossip;

public sealed class NodeIdentityTests
{
    private static readonly ClusterMap Map = ClusterMap.Parse("1 10.0.0.1 3\n3 ALIAS 192.168.9.9\n", "map");
    private static readonly IPAddress[] Local = [IPAddress.Loopback, IPAddress.Parse("10.0.0.2")];

    [Fact]
    public void A_configured_id_wins_and_takes_its_address_from_the_map()
    {
        Assert.Equal(new NodeIdentity(3, IPAddress.Parse("10.0.0.3")), NodeIdentity.Resolve(3, null, Map, Local));
    }

    [Fact]
    public void Without_a_configured_id_the_map_entry_holding_a_local_address_is_this_node()
    {
        Assert.Equal(new NodeIdentity(2, IPAddress.Parse("10.0.0.2")), NodeIdentity.Resolve(0, null, Map, Local));
    }

    [Fact]
    public void A_local_alias_also_identifies_the_node_by_its_primary_address()
    {
        var identity = NodeIdentity.Resolve(0, null, Map, [IPAddress.Parse("192.168.9.9")]);
        Assert.Equal(new NodeIdentity(3, IPAddress.Parse("10.0.0.3")), identity);
    }

    [Fact]
    public void Without_a_map_entry_the_id_is_derived_from_the_address_like_omdiscd_did()
    {
        var identity = NodeIdentity.Resolve(0, null, ClusterMap.Empty, [IPAddress.Loopback, IPAddress.Parse("172.16.3.7")]);
        Assert.Equal(new NodeIdentity(3 * 256 + 7, IPAddress.Parse("172.16.3.7")), identity);
        Assert.Equal(1, NodeIdentity.DeriveId(IPAddress.Parse("10.1.0.0")));
    }

    [Fact]
    public void A_machine_with_only_loopback_cannot_guess_an_address()
    {
        var error = Assert.Throws<InvalidOperationException>(() => NodeIdentity.Resolve(0, null, ClusterMap.Empty, [IPAddress.Loopback]));
        Assert.Contains("set node.address", error.Message, StringComparison.Ordinal);
    }
}
