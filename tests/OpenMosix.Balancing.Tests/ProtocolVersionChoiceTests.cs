using OpenMosix.Balancing.Model;
using OpenMosix.Balancing.Policy;

namespace OpenMosix.Balancing.Tests;

/// <summary>
/// The balancer never picks a node that cannot speak with home: the versions each node gossips must meet this
/// node's and, for a guest moved on, its home's. A node that gossips none (an older build) is not held against.
/// </summary>
public sealed class ProtocolVersionChoiceTests
{
    [Fact]
    public void Load_is_never_sent_to_an_idle_node_whose_versions_miss_homes()
    {
        var cluster = new Cluster().Node(1).Node(2).Node(3).Speaks(1, 7, 8).Speaks(2, 6, 6).Speaks(3, 6, 7).Jobs(1, 6);
        cluster.Settle();
        Assert.Equal(0, cluster.CountOn(2));
        Assert.Equal(3, cluster.CountOn(3));
    }

    [Fact]
    public void A_node_that_gossips_no_versions_still_takes_load()
    {
        var cluster = new Cluster().Node(1).Node(2).Speaks(1, 6, 7).Jobs(1, 2);
        cluster.Settle();
        Assert.Equal(1, cluster.CountOn(2));
    }

    [Fact]
    public void A_guest_is_moved_on_only_to_a_node_that_speaks_with_its_home()
    {
        // Node 2 holds node 1's guests; node 3 speaks with node 2 but not with home, node 4 with both.
        var cluster = new Cluster().Node(1).Node(2).Node(3, speed: 40000).Node(4)
            .Speaks(1, 6, 6).Speaks(2, 6, 7).Speaks(3, 7, 7).Speaks(4, 6, 7)
            .Jobs(2, 2, home: 1).Jobs(1, 1);
        var decisions = cluster.Decide(2);
        Assert.NotEmpty(decisions);
        Assert.All(decisions, d => Assert.Equal((ushort)4, d.To));
    }

    [Fact]
    public void A_process_started_on_a_busy_node_is_not_placed_where_no_version_meets()
    {
        NodeView Node(ushort id, double load, byte min, byte max) =>
            new(id, 10000, 1, load, 4L << 30, 4UL << 30) { ProtocolMin = min, ProtocolMax = max };
        var options = new BalancerOptions();
        Assert.Null(StartPlacement.Choose(1, [Node(1, 1, 7, 7), Node(2, 0, 6, 6)], options));
        Assert.Equal((ushort)3, StartPlacement.Choose(1, [Node(1, 1, 7, 7), Node(2, 0, 6, 6), Node(3, 0.5, 6, 7)], options));
    }

    [Theory]
    [InlineData(6, 7, 7, 8, true)]
    [InlineData(6, 6, 7, 7, false)]
    [InlineData(0, 0, 9, 9, true)]
    public void Two_nodes_speak_with_each_other_when_their_ranges_meet_or_one_did_not_say(byte aMin, byte aMax, byte bMin, byte bMax, bool speak)
    {
        var a = new NodeView(1, 10000, 1, 0, 0, 0) { ProtocolMin = aMin, ProtocolMax = aMax };
        var b = new NodeView(2, 10000, 1, 0, 0, 0) { ProtocolMin = bMin, ProtocolMax = bMax };
        Assert.Equal(speak, a.SpeaksWith(b));
        Assert.Equal(speak, b.SpeaksWith(a));
    }
}
