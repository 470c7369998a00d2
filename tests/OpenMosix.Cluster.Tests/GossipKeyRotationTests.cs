using System.Net;
using OpenMosix.Cluster.Gossip;
using OpenMosix.Cluster.Keys;

namespace OpenMosix.Cluster.Tests;

/// <summary>Keyring rotation and the version range, with unsigned nodes.</summary>
public sealed class GossipKeyRotationTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 25, 4, 0, 0, TimeSpan.Zero);
    private readonly PacketKeys _old = TestKeys.Gossip((1, 10));
    private readonly PacketKeys _both = TestKeys.Gossip((1, 10), (2, 20));

    public void Dispose()
    {
        _old.Dispose();
        _both.Dispose();
    }

    private static LoadVector Measurements(ushort id, double load = 1.0) => new(
        id, IPAddress.Parse($"10.1.0.{id}"), NodeState.Alive, load, LoadVector.ReferenceSpeed, 4, 40_000,
        8UL << 30, 4UL << 30, NodeFlags.None, 0);

    private static GossipNode Node(ushort id, PacketKeys keys, DateTimeOffset? start = null) =>
        new(Measurements(id), [(ushort)(3 - id)], keys, new GossipOptions(), new Random(id), start ?? Start);

    [Fact]
    public void A_node_with_the_new_key_sends_under_it_and_only_nodes_holding_it_understand()
    {
        var sender = Node(1, _both);
        var packet = sender.OnTick(Start).Single().Packet;

        Assert.Equal(2, BitConverter.ToUInt16(packet, 5));
        Assert.Null(Node(2, _both).OnPacket(Start, packet));
        var behind = Node(2, _old);
        Assert.Equal(RejectReason.UnknownKey, behind.OnPacket(Start, packet));
        Assert.Equal(1, behind.RejectedCount(RejectReason.UnknownKey));
    }

    [Fact]
    public void A_node_still_on_the_old_key_is_understood_by_nodes_that_took_the_new_ring()
    {
        var behind = Node(1, _old);
        Assert.Null(Node(2, _both).OnPacket(Start, behind.OnTick(Start).Single().Packet));
    }

    [Fact]
    public void A_running_node_takes_a_rotated_ring_without_losing_its_sequence()
    {
        var sender = Node(1, _old);
        var receiver = Node(2, _both);
        Assert.Null(receiver.OnPacket(Start, sender.OnTick(Start).Single().Packet));
        var beforeRotation = sender.OnTick(Start.AddSeconds(1)).Single().Packet;

        sender.UseKeys(_both);
        var afterRotation = sender.OnTick(Start.AddSeconds(2)).Single().Packet;
        Assert.Equal(2, BitConverter.ToUInt16(afterRotation, 5));
        Assert.Null(receiver.OnPacket(Start.AddSeconds(2), afterRotation));
        // The packet made before the rotation, under the old key, arrives late: a replay all the same.
        Assert.Equal(RejectReason.Replayed, receiver.OnPacket(Start.AddSeconds(2), beforeRotation));
    }

    [Fact]
    public void A_version_at_the_end_of_its_range_is_refused_and_no_version_wraps()
    {
        var one = Node(1, _old);
        var before = one.Self.Version;
        var packet = GossipCodec.Encode(new PacketHeader(2, 1, 1), Start,
            [Measurements(2) with { Version = ulong.MaxValue }, Measurements(1) with { Version = ulong.MaxValue }], null, [], _old);

        Assert.Null(one.OnPacket(Start, packet));
        Assert.Equal(2, one.RejectedCount(RejectReason.FutureVersion));
        Assert.False(one.TryGetPeer(2, Start, out _));
        Assert.Equal(before, one.Self.Version);
        one.OnTick(Start.AddSeconds(1));
        Assert.True(one.Self.Version > before);
    }

    [Fact]
    public void A_version_claimed_ahead_of_the_clock_is_overtaken_once_the_clock_gets_there()
    {
        var one = Node(1, _old);
        var two = Node(2, _old);
        // The furthest ahead a packet may claim: the end of the replay window.
        var ahead = ((ulong)Start.AddSeconds(29).ToUnixTimeMilliseconds() << 10) + 5;
        Assert.Null(one.OnPacket(Start, GossipCodec.Encode(new PacketHeader(2, 1, 1), Start,
            [Measurements(2, load: 0) with { Version = ahead }], null, [], _old)));

        var later = Start.AddSeconds(30);
        two.UpdateSelf(Measurements(2, load: 4));
        Assert.Null(one.OnPacket(later, two.OnTick(later).Single().Packet));
        Assert.True(one.TryGetPeer(2, later, out var seen));
        Assert.Equal(4, seen.Vector.Load);
    }

    [Fact]
    public void A_restarted_node_starts_above_every_version_its_previous_run_sent()
    {
        var first = Node(1, _old);
        for (var i = 0; i < 1000; i++)
            first.UpdateSelf(Measurements(1, load: i));
        first.OnTick(Start.AddMilliseconds(500));
        var restarted = Node(1, _old, Start.AddSeconds(1));
        Assert.True(restarted.Self.Version > first.Self.Version);
    }
}
