using System.Net;
using OpenMosix.Cluster.Discovery;

namespace OpenMosix.Cluster.Tests;

public sealed class DiscoveryTests
{
    private static readonly byte[] Key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    [Fact]
    public void An_announcement_survives_encoding()
    {
        var sent = new Announcement(7, IPAddress.Parse("10.77.1.7"), Now);
        Assert.True(Announcement.TryDecode(sent.Encode(Key), Key, Now, Window, out var received, out _));
        Assert.Equal(sent, received);
    }

    [Fact]
    public void Announcements_that_are_forged_stale_truncated_or_foreign_are_refused_with_a_reason()
    {
        var packet = new Announcement(7, IPAddress.Parse("10.77.1.7"), Now).Encode(Key);
        var tampered = (byte[])packet.Clone();
        tampered[6] ^= 1;
        var cases = new (byte[] Data, DateTimeOffset At, string Reason)[]
        {
            (packet[..^1], Now, "bad-size"),
            ([.. "XXXX"u8, .. packet[4..]], Now, "bad-magic"),
            (tampered, Now, "bad-mac"),
            (new Announcement(7, IPAddress.Parse("10.77.1.7"), Now).Encode(new byte[32]), Now, "bad-mac"),
            (packet, Now + TimeSpan.FromMinutes(1), "stale"),
        };
        foreach (var (data, at, reason) in cases)
        {
            Assert.False(Announcement.TryDecode(data, Key, at, Window, out var announcement, out var why));
            Assert.Null(announcement);
            Assert.Equal(reason, why);
        }
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
