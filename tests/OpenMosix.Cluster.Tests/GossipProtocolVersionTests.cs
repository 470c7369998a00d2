using System.Net;
using OpenMosix.Cluster.Gossip;
using OpenMosix.Cluster.Gossip.Origins;
using OpenMosix.Cluster.Keys;
using OpenMosix.Cluster.Transport;
using OpenMosix.TestSupport;

namespace OpenMosix.Cluster.Tests;

/// <summary>
/// Each node's node-protocol versions ride in its signed gossip entry (format 3), so every node knows them before a
/// link is made; a node of format 2 (an older build) is still heard and still hears, without versions.
/// </summary>
public sealed class GossipProtocolVersionTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 12, 7, 11, 0, 0, TimeSpan.Zero);
    private readonly SignedGossipCluster _cluster = new(Start);

    public void Dispose() => _cluster.Dispose();

    private static LoadVector Measurements(ushort id, ProtocolRange? versions) => new(
        id, IPAddress.Parse($"10.1.0.{id}"), NodeState.Alive, 1.0, LoadVector.ReferenceSpeed, 4, 40_000,
        8UL << 30, 4UL << 30, NodeFlags.None, 0)
    {
        Protocols = versions,
    };

    /// <summary>A version as a node started at <see cref="Start"/> gives its entries (unix ms × 1024).</summary>
    private static readonly ulong ClockVersion = (ulong)Start.ToUnixTimeMilliseconds() << 10;

    private GossipNode Node(ushort id, ProtocolRange? versions, params ushort[] peers) =>
        new(Measurements(id, versions), peers, _cluster.Keys, new GossipOptions(), new Random(id), Start, _cluster.Origins(id));

    private GossipPacket Decode(byte[] packet)
    {
        Assert.True(GossipCodec.TryDecode(packet, _cluster.Keys, new ReplayGuard(TimeSpan.FromSeconds(30), () => Start),
            out var decoded, out var reason), reason.ToString());
        return decoded;
    }

    [Fact]
    public void A_nodes_versions_reach_a_node_it_never_linked_with_through_a_relaying_node()
    {
        // Unsigned gossip, so node 3 takes node 1's entry from node 2 without having node 1's certificate first.
        GossipNode Unsigned(ushort id, ProtocolRange versions, params ushort[] peers) =>
            new(Measurements(id, versions), peers, _cluster.Keys, new GossipOptions(), new Random(id), Start);
        var one = Unsigned(1, new ProtocolRange(6, 7), 2);
        var two = Unsigned(2, ProtocolRange.Current, 1, 3);
        var three = Unsigned(3, ProtocolRange.Current, 2);

        Assert.Null(two.OnPacket(Start, SignedGossipCluster.To(one.OnTick(Start), 2)));
        Assert.Null(three.OnPacket(Start, SignedGossipCluster.To(two.OnTick(Start), 3)));

        Assert.True(three.TryGetPeer(1, Start, out var heard));
        Assert.Equal(new ProtocolRange(6, 7), heard.Vector.Protocols);
    }

    [Fact]
    public void Versions_stripped_or_changed_by_a_relayer_break_the_origins_signature()
    {
        var entry = Measurements(4, new ProtocolRange(7, 7)) with { Version = 5 };
        var signed = GossipEntryCodec.SignedBytes(entry);

        Assert.NotEqual(signed, GossipEntryCodec.SignedBytes(entry with { Protocols = null }));
        Assert.NotEqual(signed, GossipEntryCodec.SignedBytes(entry with { Protocols = new ProtocolRange(6, 7) }));
        // An entry without versions signs what an older node signs: 4 bytes of domain and the 64 of format 2.
        Assert.Equal(4 + GossipEntryCodec.Size, GossipEntryCodec.SignedBytes(entry with { Protocols = null }).Length);
    }

    [Theory]
    [InlineData(0, 7)]
    [InlineData(8, 7)]
    public void An_entry_with_impossible_versions_is_refused(byte min, byte max)
    {
        var bytes = new byte[GossipEntryCodec.RangedSize];
        GossipEntryCodec.WriteRanged(bytes, Measurements(4, new ProtocolRange(6, 7)) with { Version = 1 });
        Assert.True(GossipEntryCodec.TryReadRanged(bytes, out var good));
        Assert.Equal(new ProtocolRange(6, 7), good.Protocols);

        bytes[^2] = min;
        bytes[^1] = max;
        Assert.False(GossipEntryCodec.TryReadRanged(bytes, out _));
    }

    [Fact]
    public void A_format_2_node_is_heard_without_versions_and_answered_in_format_2_until_it_speaks_format_3()
    {
        var one = Node(1, ProtocolRange.Current, 2);
        // Node 2 is an older build: format 2, its entry signed over the 64 bytes it knows.
        var two = _cluster.Origins(2);
        var old = Measurements(2, null) with { Version = ClockVersion };
        var legacy = GossipCodec.Encode(new PacketHeader(2, 9, 1), Start, [old], [two.Sign(GossipEntryCodec.SignedBytes(old))],
            two.OwnCertificate.Span, _cluster.Keys, GossipCodec.LegacyFormat);

        Assert.Null(one.OnPacket(Start, legacy));
        Assert.True(one.TryGetPeer(2, Start, out var heard));
        Assert.Null(heard.Vector.Protocols);

        var answer = SignedGossipCluster.To(one.OnTick(Start.AddSeconds(1)), 2);
        Assert.Equal(GossipCodec.LegacyFormat, answer[4]);
        Assert.Null(Decode(answer).Entries.Single(e => e.NodeId == 1).Protocols);
        // What an older node checks of it: node 1's entry signed without versions (here a reader of both formats).
        var reader = Node(2, null, 1);
        Assert.Null(reader.OnPacket(Start.AddSeconds(1), answer));
        Assert.True(reader.TryGetPeer(1, Start.AddSeconds(1), out _));

        // Upgraded, node 2 speaks format 3: it is answered in format 3, with node 1's versions.
        var newer = Measurements(2, ProtocolRange.Current) with { Version = ClockVersion + 5000 };
        Assert.Null(one.OnPacket(Start.AddSeconds(2), GossipCodec.Encode(new PacketHeader(2, 9, 2), Start.AddSeconds(2), [newer],
            [two.Sign(GossipEntryCodec.SignedBytes(newer))], [], _cluster.Keys)));
        var upgraded = SignedGossipCluster.To(one.OnTick(Start.AddSeconds(3)), 2);
        Assert.Equal(GossipCodec.FormatVersion, upgraded[4]);
        Assert.Equal(ProtocolRange.Current, Decode(upgraded).Entries.Single(e => e.NodeId == 1).Protocols);
    }

    [Fact]
    public void A_format_2_peer_is_not_sent_entries_signed_with_versions_but_is_sent_those_without()
    {
        var one = Node(1, ProtocolRange.Current, 2, 3, 4);
        var three = Node(3, ProtocolRange.Current, 1);
        var four = _cluster.Origins(4);
        var old4 = Measurements(4, null) with { Version = ClockVersion };
        Assert.Null(one.OnPacket(Start, SignedGossipCluster.To(three.OnTick(Start), 1)));
        Assert.Null(one.OnPacket(Start, GossipCodec.Encode(new PacketHeader(4, 9, 1), Start, [old4],
            [four.Sign(GossipEntryCodec.SignedBytes(old4))], four.OwnCertificate.Span, _cluster.Keys, GossipCodec.LegacyFormat)));

        var sent = one.OnTick(Start.AddSeconds(1));
        var toFour = Decode(SignedGossipCluster.To(sent, 4));
        Assert.Equal(GossipCodec.LegacyFormat, toFour.Format);
        Assert.DoesNotContain(toFour.Entries, e => e.NodeId == 3);
        Assert.All(toFour.Entries, e => Assert.Null(e.Protocols));
        // Format 3 carries both: node 3 with its versions, node 4 (which has none) relayed as it signed it.
        var toThree = Decode(SignedGossipCluster.To(sent, 3));
        Assert.Null(toThree.Entries.Single(e => e.NodeId == 4).Protocols);
    }
}
