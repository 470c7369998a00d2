using System.Net;
using OpenMosix.Cluster.Gossip;
using OpenMosix.Cluster.Gossip.Origins;
using OpenMosix.Cluster.Keys;
using OpenMosix.TestSupport;

namespace OpenMosix.Cluster.Tests;

/// <summary>Origin signatures: a node's figures can only come from that node, whoever relays them.</summary>
public sealed class GossipOriginTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 25, 4, 0, 0, TimeSpan.Zero);
    private readonly SignedGossipCluster _cluster = new(Start);

    public void Dispose() => _cluster.Dispose();

    private static LoadVector Measurements(ushort id, double load = 1.0) => new(
        id, IPAddress.Parse($"10.1.0.{id}"), NodeState.Alive, load, LoadVector.ReferenceSpeed, 4, 40_000,
        8UL << 30, 4UL << 30, NodeFlags.None, 0);

    private GossipNode Node(ushort id, params ushort[] peers) =>
        new(Measurements(id), peers, _cluster.Keys, new GossipOptions(), new Random(id), Start, _cluster.Origins(id));

    [Fact]
    public void A_signed_round_trip_carries_the_figures_and_the_first_round_the_certificate()
    {
        var two = Node(2, 1);
        var one = Node(1, 2);
        two.UpdateSelf(Measurements(2, load: 3.5));

        Assert.Null(one.OnPacket(Start, SignedGossipCluster.To(two.OnTick(Start), 1)));
        Assert.True(one.TryGetPeer(2, Start, out var seen));
        Assert.Equal(3.5, seen.Vector.Load);
    }

    [Fact]
    public void An_entry_for_node_3_signed_by_node_2_is_refused()
    {
        var one = Node(1, 2, 3);
        var three = Node(3, 1);
        Assert.Null(one.OnPacket(Start, SignedGossipCluster.To(three.OnTick(Start), 1)));
        Assert.True(one.TryGetPeer(3, Start, out var honest));

        // Node 2 holds the cluster key and its own certificate, and claims node 3 is idle with a newer version.
        var two = _cluster.Origins(2);
        var self = Measurements(2) with { Version = 1 };
        var forged = Measurements(3, load: 0) with { Version = honest.Vector.Version + 1000 };
        var packet = GossipCodec.Encode(new PacketHeader(2, 1, 1), Start, [self, forged],
            [two.Sign(GossipEntryCodec.SignedBytes(self)), two.Sign(GossipEntryCodec.SignedBytes(forged))],
            two.OwnCertificate.Span, _cluster.Keys);

        Assert.Null(one.OnPacket(Start, packet));
        Assert.Equal(1, one.RejectedCount(RejectReason.BadSignature));
        Assert.True(one.TryGetPeer(3, Start, out var after));
        Assert.Equal(honest.Vector.Version, after.Vector.Version);
        Assert.Equal(1.0, after.Vector.Load);
    }

    [Fact]
    public void An_entry_relayed_by_node_2_with_node_3s_signature_is_accepted_once_node_3s_certificate_is_known()
    {
        var one = Node(1, 2, 3);
        var two = Node(2, 1, 3);
        var three = Node(3, 1, 2);
        var first = three.OnTick(Start);
        Assert.Null(two.OnPacket(Start, SignedGossipCluster.To(first, 2)));

        // Node 1 has not heard from node 3 yet: the relayed entry waits for node 3's own packet.
        Assert.Null(one.OnPacket(Start, SignedGossipCluster.To(two.OnTick(Start), 1)));
        Assert.Equal(1, one.RejectedCount(RejectReason.UnknownOrigin));
        Assert.False(one.TryGetPeer(3, Start, out _));
        Assert.Null(one.OnPacket(Start, SignedGossipCluster.To(first, 1)));

        var later = Start.AddSeconds(1);
        three.UpdateSelf(Measurements(3, load: 6.25));
        Assert.Null(two.OnPacket(later, SignedGossipCluster.To(three.OnTick(later), 2)));
        Assert.Null(one.OnPacket(later, SignedGossipCluster.To(two.OnTick(later), 1)));
        Assert.True(one.TryGetPeer(3, later, out var relayed));
        Assert.Equal(6.25, relayed.Vector.Load);
        Assert.Equal(three.Self.Version, relayed.Vector.Version);
    }

    [Fact]
    public void A_certificate_for_another_node_or_from_another_ca_is_refused()
    {
        var one = Node(1, 2);
        var four = _cluster.Origins(4);
        using var strangerCa = new TestAuthority(Start);
        using var stranger = strangerCa.Origins(2, Start);
        var self = Measurements(2) with { Version = 1 };

        var wrongNode = GossipCodec.Encode(new PacketHeader(2, 1, 1), Start, [self], [four.Sign(GossipEntryCodec.SignedBytes(self))],
            four.OwnCertificate.Span, _cluster.Keys);
        var wrongCa = GossipCodec.Encode(new PacketHeader(2, 1, 2), Start, [self], [stranger.Sign(GossipEntryCodec.SignedBytes(self))],
            stranger.OwnCertificate.Span, _cluster.Keys);

        Assert.Equal(RejectReason.BadCertificate, one.OnPacket(Start, wrongNode));
        Assert.Equal(RejectReason.BadCertificate, one.OnPacket(Start, wrongCa));
        Assert.False(one.TryGetPeer(2, Start, out _));
    }

    [Fact]
    public void A_node_that_requires_signatures_refuses_unsigned_packets()
    {
        var one = Node(1, 2);
        var unsigned = new GossipNode(Measurements(2), [1], _cluster.Keys, new GossipOptions(), new Random(2), Start);

        Assert.Equal(RejectReason.Unsigned, one.OnPacket(Start, SignedGossipCluster.To(unsigned.OnTick(Start), 1)));
        Assert.False(one.TryGetPeer(2, Start, out _));
    }

    [Fact]
    public void A_node_whose_certificate_names_another_node_cannot_gossip_as_itself()
    {
        var three = _cluster.Origins(3);
        Assert.Throws<ArgumentException>(() => new GossipNode(Measurements(2), [1], _cluster.Keys, new GossipOptions(), new Random(2), Start, three));
    }
}
