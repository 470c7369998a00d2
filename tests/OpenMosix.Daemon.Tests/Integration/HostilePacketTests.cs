using System.Net;
using System.Net.Sockets;
using OpenMosix.Admin;
using OpenMosix.Cluster.Gossip;
using OpenMosix.Cluster.Keys;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Integration;

public sealed class HostilePacketTests
{
    [Fact]
    public void Garbage_truncated_oversized_forged_replayed_and_foreign_packets_are_counted_and_the_daemon_keeps_serving()
    {
        using var cluster = new LoopbackCluster(3);
        cluster.Start(1, 2);
        Poll.Until(() => cluster.StateSeenBy(1, 2) == "alive", TimeSpan.FromSeconds(10), "node 1 to see node 2 alive");
        using var keys = PacketKeys.ForGossip(KeyringText.Parse(File.ReadAllBytes(cluster.KeyPath)));
        using var foreign = PacketKeys.ForGossip(Keyring.Fresh(1, DateTimeOffset.UtcNow));
        var target = new IPEndPoint(cluster.Address(1), cluster.GossipPort);
        // Node 3 is in the map but not running: its address may speak, so its packets reach the codec.
        using var member = Bound(cluster.Address(3));
        using var stranger = Bound(IPAddress.Parse("127.0.0.1"));
        var vector = new LoadVector(3, cluster.Address(3), NodeState.Alive, 0.5, 10000, 1, 10000, 1 << 30, 1 << 29, NodeFlags.None, 1);
        var valid = GossipCodec.Encode(new PacketHeader(3, 1, 42), DateTimeOffset.UtcNow, [vector], null, [], keys);
        var forged = GossipCodec.Encode(new PacketHeader(3, 1, 43), DateTimeOffset.UtcNow, [vector], null, [], foreign);
        var stale = GossipCodec.Encode(new PacketHeader(3, 1, 44), DateTimeOffset.UtcNow.AddHours(-1), [vector], null, [], keys);

        member.SendTo(System.Text.Encoding.ASCII.GetBytes(new string('x', 200)), target);
        member.SendTo(valid[..30], target);
        member.SendTo(new byte[GossipCodec.MaxPacketSize + 300], target);
        member.SendTo(forged, target);
        member.SendTo(valid, target);
        member.SendTo(valid, target);
        member.SendTo(stale, target);
        stranger.SendTo(valid, target);

        GossipStats stats = null!;
        Poll.Until(() =>
        {
            using var client = cluster.Client(1);
            stats = client.GossipStatsAsync().GetAwaiter().GetResult();
            return stats.Rejected.Values.Sum() >= 7;
        }, TimeSpan.FromSeconds(10), "node 1 to count 7 rejected packets");

        Assert.Equal(1, stats.Rejected["bad-magic"]);
        Assert.Equal(1, stats.Rejected["too-long"]);
        Assert.Equal(1, stats.Rejected["too-short"]);
        Assert.Equal(1, stats.Rejected["bad-mac"]);
        Assert.Equal(1, stats.Rejected["replayed"]);
        Assert.Equal(1, stats.Rejected["stale"]);
        Assert.Equal(1, stats.Rejected["unknown-sender"]);
        // The one valid packet was taken: node 3 is known, from what it said.
        Assert.Equal(0.5, cluster.View(1).Nodes.Single(n => n.Id == 3).Load);
        Assert.Equal("alive", cluster.StateSeenBy(1, 2));
    }

    private static Socket Bound(IPAddress address)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(address, 0));
        return socket;
    }
}
