using System.Net;
using OpenMosix.Cluster.Discovery;
using OpenMosix.Cluster.Keys;
using OpenMosix.TestSupport;

namespace OpenMosix.Cluster.Tests;

public sealed class DiscoveryTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(10);
    private readonly PacketKeys _keys = PacketKeys.ForDiscovery(TestKeys.Ring((1, 1)));
    private readonly TestAuthority _authority = new(Now);

    public void Dispose()
    {
        _keys.Dispose();
        _authority.Dispose();
    }

    [Fact]
    public void An_announcement_survives_encoding()
    {
        var sent = new Announcement(7, IPAddress.Parse("10.77.1.7"), Now);
        Assert.True(Announcement.TryDecode(sent.Encode(_keys), _keys, null, Now, Window, out var received, out _));
        Assert.Equal(sent, received);
    }

    [Fact]
    public void Announcements_that_are_forged_stale_truncated_or_foreign_are_refused_with_a_reason()
    {
        var packet = new Announcement(7, IPAddress.Parse("10.77.1.7"), Now).Encode(_keys);
        var tampered = (byte[])packet.Clone();
        tampered[25] ^= 1;
        using var foreign = PacketKeys.ForDiscovery(TestKeys.Ring((1, 99)));
        using var gossipKeys = TestKeys.Gossip((1, 1));
        var cases = new (byte[] Data, DateTimeOffset At, string Reason)[]
        {
            (packet[..20], Now, "bad-size"),
            ([.. "XXXX"u8, .. packet[4..]], Now, "bad-magic"),
            ([.. packet[..5], 9, .. packet[6..]], Now, "unknown-key"),
            (tampered, Now, "bad-mac"),
            (packet[..^1], Now, "bad-size"),
            (new Announcement(7, IPAddress.Parse("10.77.1.7"), Now).Encode(foreign), Now, "bad-mac"),
            // The same ring's gossip subkey is not the discovery subkey.
            (new Announcement(7, IPAddress.Parse("10.77.1.7"), Now).Encode(gossipKeys), Now, "bad-mac"),
            (packet, Now + TimeSpan.FromMinutes(1), "stale"),
        };
        foreach (var (data, at, reason) in cases)
        {
            Assert.False(Announcement.TryDecode(data, _keys, null, at, Window, out var announcement, out var why));
            Assert.Null(announcement);
            Assert.Equal(reason, why);
        }
    }

    [Fact]
    public void A_signed_announcement_is_taken_only_for_the_node_its_certificate_names()
    {
        using var seven = _authority.Origins(7, Now);
        using var eight = _authority.Origins(8, Now);
        using var receiver = _authority.Origins(1, Now);
        var own = new Announcement(7, IPAddress.Parse("10.77.1.7"), Now).Encode(_keys, seven);
        var claimed = new Announcement(7, IPAddress.Parse("10.77.1.8"), Now).Encode(_keys, eight);
        var unsigned = new Announcement(7, IPAddress.Parse("10.77.1.7"), Now).Encode(_keys);

        Assert.True(Announcement.TryDecode(own, _keys, receiver, Now, Window, out var announcement, out _));
        Assert.Equal(7, announcement!.NodeId);
        Assert.False(Announcement.TryDecode(claimed, _keys, receiver, Now, Window, out _, out var why));
        Assert.Equal("bad-certificate", why);
        Assert.False(Announcement.TryDecode(unsigned, _keys, receiver, Now, Window, out _, out why));
        Assert.Equal("unsigned", why);
    }

    [Fact]
    public void Heard_nodes_join_the_map_and_silent_ones_leave_it()
    {
        var nodes = new DiscoveredNodes(1, IPAddress.Parse("10.0.0.1"), TimeSpan.FromSeconds(5));
        Assert.True(nodes.Observe(2, IPAddress.Parse("10.0.0.2"), Now));
        Assert.False(nodes.Observe(2, IPAddress.Parse("10.0.0.2"), Now + TimeSpan.FromSeconds(1)));
        Assert.True(nodes.Observe(3, IPAddress.Parse("10.0.0.3"), Now));
        Assert.Equal([1, 2, 3], nodes.ToMap().Nodes.Select(n => (int)n.Id));

        Assert.False(nodes.Expire(Now + TimeSpan.FromSeconds(5)));
        Assert.True(nodes.Expire(Now + TimeSpan.FromSeconds(5.5)));
        Assert.Equal([1, 2], nodes.ToMap().Nodes.Select(n => (int)n.Id));
    }

    [Fact]
    public void A_second_address_cannot_take_a_live_nodes_id_or_ours()
    {
        var nodes = new DiscoveredNodes(1, IPAddress.Parse("10.0.0.1"), TimeSpan.FromSeconds(5));
        nodes.Observe(2, IPAddress.Parse("10.0.0.2"), Now);
        Assert.False(nodes.Observe(2, IPAddress.Parse("10.0.0.99"), Now));
        Assert.False(nodes.Observe(1, IPAddress.Parse("10.0.0.98"), Now));
        Assert.False(nodes.Observe(9, IPAddress.Parse("10.0.0.1"), Now));
        Assert.Equal(2, nodes.Conflicts);
        Assert.Equal("10.0.0.2", nodes.ToMap().Nodes.Single(n => n.Id == 2).Address.ToString());
        Assert.Equal([1, 2], nodes.ToMap().Nodes.Select(n => (int)n.Id));
    }

    [Fact]
    public void A_node_that_comes_back_with_another_id_replaces_its_old_entry()
    {
        var nodes = new DiscoveredNodes(1, IPAddress.Parse("10.0.0.1"), TimeSpan.FromSeconds(5));
        nodes.Observe(2, IPAddress.Parse("10.0.0.2"), Now);
        Assert.True(nodes.Observe(5, IPAddress.Parse("10.0.0.2"), Now));
        Assert.Equal([1, 5], nodes.ToMap().Nodes.Select(n => (int)n.Id));
    }
}
