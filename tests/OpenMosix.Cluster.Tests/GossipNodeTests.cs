using System.Net;
using OpenMosix.Cluster.Gossip;
using OpenMosix.Cluster.Keys;

namespace OpenMosix.Cluster.Tests;

public sealed class GossipNodeTests
{
    private static readonly PacketKeys Keys = TestKeys.Gossip((1, 100));
    private static readonly DateTimeOffset Start = new(2026, 11, 25, 4, 0, 0, TimeSpan.Zero);
    private static readonly GossipOptions Options = new();

    private static LoadVector Measurements(ushort id, double load = 1.0) => new(
        id, IPAddress.Parse($"10.1.{id >> 8}.{id & 255}"), NodeState.Alive, load, LoadVector.ReferenceSpeed, 4, 40_000,
        8UL << 30, 4UL << 30, NodeFlags.None, 0);

    private static GossipNode Node(ushort id, params ushort[] peers) =>
        new(Measurements(id), peers, Keys, Options, new Random(id), Start);

    /// <summary>Delivers everything <paramref name="from"/> sends this round to <paramref name="to"/>.</summary>
    private static RejectReason? Send(GossipNode from, GossipNode to, DateTimeOffset now)
    {
        var packet = from.OnTick(now).First(p => p.Destination == to.Id).Packet;
        return to.OnPacket(now, packet);
    }

    [Fact]
    public void A_newer_version_replaces_the_known_vector_and_an_older_one_does_not()
    {
        var a = Node(1, 2);
        var b = Node(2, 1);
        a.UpdateSelf(Measurements(1, load: 2.5));
        var first = a.OnTick(Start).Single().Packet;
        a.UpdateSelf(Measurements(1, load: 7.0));
        var second = a.OnTick(Start.AddSeconds(1)).Single().Packet;

        Assert.Null(b.OnPacket(Start.AddSeconds(1), second));
        Assert.True(b.TryGetPeer(1, Start.AddSeconds(1), out var seen));
        Assert.Equal(7.0, seen.Vector.Load);

        // An older packet from a third node carrying node 1's older vector must not roll it back.
        var c = Node(3, 2);
        Assert.Null(c.OnPacket(Start, first));
        Assert.Null(Send(c, b, Start.AddSeconds(1)));
        Assert.True(b.TryGetPeer(1, Start.AddSeconds(1), out var after));
        Assert.Equal(7.0, after.Vector.Load);
        Assert.Equal(seen.Vector.Version, after.Vector.Version);
    }

    [Fact]
    public void UpdateSelf_keeps_the_identity_and_bumps_the_version()
    {
        var a = Node(1);
        var before = a.Self.Version;
        a.UpdateSelf(Measurements(99, load: 3) with { Version = 5, State = NodeState.Dead });

        Assert.Equal(1, a.Self.NodeId);
        Assert.Equal(NodeState.Alive, a.Self.State);
        Assert.Equal(before + 1, a.Self.Version);
        Assert.Equal(3, a.Self.Load);
    }

    [Fact]
    public void A_silent_node_turns_suspect_and_dead_exactly_at_the_bounds_and_alive_again_on_news()
    {
        var a = Node(1, 2);
        var b = Node(2, 1);
        Assert.Null(Send(a, b, Start));

        NodeState StateAt(TimeSpan after) => b.TryGetPeer(1, Start + after, out var s) ? s.State : throw new InvalidOperationException();
        Assert.Equal(NodeState.Alive, StateAt(Options.SuspectAfter - TimeSpan.FromTicks(1)));
        Assert.Equal(NodeState.Suspect, StateAt(Options.SuspectAfter));
        Assert.Equal(NodeState.Suspect, StateAt(Options.DeadAfter - TimeSpan.FromTicks(1)));
        Assert.Equal(NodeState.Dead, StateAt(Options.DeadAfter));
        Assert.Equal(Options.DeadAfter, b.Peers(Start + Options.DeadAfter).Single(p => p.NodeId == 1).Age);

        var later = Start + Options.DeadAfter + TimeSpan.FromSeconds(5);
        Assert.Null(Send(a, b, later));
        Assert.Equal(NodeState.Alive, StateAt(Options.DeadAfter + TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void Dead_entries_stay_visible_but_are_not_gossiped_onward()
    {
        var a = Node(1, 2, 4);
        var b = Node(2, 3);
        var c = Node(3, 2);
        Assert.Null(Send(a, b, Start));
        var deadTime = Start + Options.DeadAfter;

        Assert.Equal(NodeState.Dead, b.Peers(deadTime).Single(p => p.NodeId == 1).State);
        Assert.Null(Send(b, c, deadTime));
        Assert.False(c.TryGetPeer(1, deadTime, out _));

        // A suspect (not yet dead) entry is still spread; a receiver that never had it ages it from its own arrival.
        var d = Node(4, 3);
        Assert.Null(Send(a, d, Start));
        var suspectTime = Start + Options.SuspectAfter;
        Assert.Null(Send(d, c, suspectTime));
        Assert.True(c.TryGetPeer(1, suspectTime, out var relayed));
        Assert.Equal(NodeState.Alive, relayed.State);
    }

    [Fact]
    public void A_replayed_packet_is_rejected_and_counted()
    {
        var a = Node(1, 2);
        var b = Node(2, 1);
        var packet = a.OnTick(Start).Single().Packet;

        Assert.Null(b.OnPacket(Start, packet));
        Assert.Equal(RejectReason.Replayed, b.OnPacket(Start.AddSeconds(1), packet));
        Assert.Equal(RejectReason.Stale, b.OnPacket(Start.AddMinutes(5), a.OnTick(Start).Single().Packet));
        Assert.Equal(RejectReason.BadMac, Node(3).OnPacket(Start, Corrupt(packet)));

        Assert.Equal(1, b.RejectedCount(RejectReason.Replayed));
        Assert.Equal(1, b.RejectedCounts[RejectReason.Stale]);
        Assert.Equal(0, b.RejectedCount(RejectReason.BadMac));
    }

    [Fact]
    public void A_node_that_hears_a_newer_vector_of_itself_jumps_past_it()
    {
        var a = Node(1, 2);
        var b = Node(2, 1);
        for (var i = 0; i < 5; i++)
            a.UpdateSelf(Measurements(1));
        Assert.Null(Send(a, b, Start));
        var restarted = Node(1, 2);
        Assert.Null(Send(b, restarted, Start.AddSeconds(1)));

        Assert.True(b.TryGetPeer(1, Start.AddSeconds(1), out var remembered));
        Assert.True(restarted.Self.Version > remembered.Vector.Version);
    }

    [Fact]
    public void Each_round_sends_to_fanout_distinct_known_peers()
    {
        var a = Node(1, 2, 3, 4, 5, 6);
        var packets = a.OnTick(Start);

        Assert.Equal(Options.Fanout, packets.Count);
        Assert.Equal(Options.Fanout, packets.Select(p => p.Destination).Distinct().Count());
        Assert.All(packets, p => Assert.InRange(p.Destination, (ushort)2, (ushort)6));
        Assert.Empty(Node(7).OnTick(Start));
    }

    [Fact]
    public void A_node_that_knows_more_peers_than_fit_sends_one_full_packet_led_by_itself()
    {
        var peers = Enumerable.Range(2, 100).Select(i => (ushort)i).ToArray();
        var hub = Node(1, peers);
        foreach (var peer in peers)
            Assert.Null(Send(Node(peer, 1), hub, Start));

        var (destination, packet) = hub.OnTick(Start.AddSeconds(1))[0];
        var receiver = Node(destination, 1);
        Assert.Equal(GossipCodec.Overhead + GossipCodec.MaxEntries * GossipCodec.EntrySize, packet.Length);
        Assert.Null(receiver.OnPacket(Start.AddSeconds(1), packet));
        Assert.Equal(GossipCodec.MaxEntries, receiver.Peers(Start.AddSeconds(1)).Count(p => p.NodeId != destination));
        Assert.True(receiver.TryGetPeer(1, Start.AddSeconds(1), out var hubSeen));
        Assert.Equal(hub.Self.Version, hubSeen.Vector.Version);
    }

    [Fact]
    public void Hearing_from_a_node_directly_refreshes_it_even_without_a_newer_version()
    {
        var a = Node(1, 2, 3);
        var b = Node(2, 3);
        var c = Node(3, 2);
        var sent = a.OnTick(Start);
        Assert.Null(c.OnPacket(Start, sent.Single(p => p.Destination == 3).Packet));
        var relayTime = Start.AddSeconds(3);
        Assert.Null(Send(c, b, relayTime));

        // a's own packet of the same round arrives late, after the relay already delivered that version.
        var lateArrival = relayTime + Options.SuspectAfter - TimeSpan.FromSeconds(1);
        Assert.Null(b.OnPacket(lateArrival, sent.Single(p => p.Destination == 2).Packet));

        Assert.True(b.TryGetPeer(1, lateArrival, out var direct));
        Assert.Equal(TimeSpan.Zero, direct.Age);
        Assert.Equal(NodeState.Alive, b.Peers(lateArrival + Options.SuspectAfter - TimeSpan.FromTicks(1)).Single(p => p.NodeId == 1).State);
    }

    private static byte[] Corrupt(byte[] packet)
    {
        var copy = (byte[])packet.Clone();
        copy[^1] ^= 0xFF;
        return copy;
    }
}
