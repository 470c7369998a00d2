using System.Buffers.Binary;
using System.Net;
using OpenMosix.Cluster.Gossip;
using OpenMosix.Cluster.Keys;

namespace OpenMosix.Cluster.Tests;

public sealed class GossipCodecTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 4, 0, 0, TimeSpan.Zero);
    private const int Body = GossipCodec.HeaderSize;
    private const int Entries = 12;
    private readonly PacketKeys _keys = TestKeys.Gossip((1, 1));

    public void Dispose() => _keys.Dispose();

    private static ReplayGuard Guard() => new(TimeSpan.FromSeconds(30), () => Now);

    internal static LoadVector Vector(ushort id, ulong version = 1) => new(
        id, id % 2 == 0 ? IPAddress.Parse($"10.0.{id >> 8}.{id & 255}") : IPAddress.Parse($"fd00::{id:x}"),
        NodeState.Alive, 0.75 + id, 12_500, 8, 80_000, 16UL << 30, 3UL << 30, NodeFlags.Stay | NodeFlags.Quiet, version)
    {
        Utilization = (ushort)(id % 1001),
    };

    private byte[] Packet(ulong sequence = 7, int entries = 3, DateTimeOffset? at = null, PacketKeys? keys = null) =>
        GossipCodec.Encode(new PacketHeader(5, 0xBEEF, sequence), at ?? Now,
            [.. Enumerable.Range(1, entries).Select(i => Vector((ushort)i, (ulong)i * 10))], null, [], keys ?? _keys);

    [Fact]
    public void Encoded_packet_decodes_to_the_same_entries()
    {
        var entries = Enumerable.Range(1, GossipCodec.MaxEntries).Select(i => Vector((ushort)(i * 1000), (ulong)i)).ToArray();
        var bytes = GossipCodec.Encode(new PacketHeader(42, 3, 9), Now, entries, null, [], _keys);

        Assert.True(bytes.Length <= GossipCodec.MaxPacketSize);
        Assert.True(GossipCodec.TryDecode(bytes, _keys, Guard(), out var packet, out _));
        Assert.Equal(42, packet.Sender);
        Assert.Equal(9UL, packet.Sequence);
        Assert.Equal(Now, packet.Timestamp);
        Assert.Equal(entries, packet.Entries);
        Assert.False(packet.IsSigned);
        Assert.Null(packet.Certificate);
    }

    [Fact]
    public void Signed_entries_and_a_certificate_come_back_as_sent()
    {
        var entries = Enumerable.Range(1, 4).Select(i => Vector((ushort)i, (ulong)i)).ToArray();
        var signatures = entries.Select(e => Enumerable.Repeat((byte)e.NodeId, 64).ToArray()).ToArray();
        var certificate = Enumerable.Range(0, 480).Select(i => (byte)i).ToArray();
        var bytes = GossipCodec.Encode(new PacketHeader(1, 2, 3), Now, entries, signatures, certificate, _keys);

        Assert.True(GossipCodec.TryDecode(bytes, _keys, Guard(), out var packet, out _));
        Assert.Equal(entries, packet.Entries);
        Assert.Equal(signatures, packet.Signatures);
        Assert.Equal(certificate, packet.Certificate);
    }

    [Fact]
    public void Nothing_of_the_figures_is_visible_on_the_wire()
    {
        var bytes = Packet(entries: 1);
        var clear = new byte[GossipEntryCodec.Size];
        GossipEntryCodec.Write(clear, Vector(1, 10));
        // The load, speed and memory figures (bytes 20-53 of an entry) appear nowhere in the datagram.
        Assert.Equal(-1, bytes.AsSpan().IndexOf(clear.AsSpan(20, 8)));
        Assert.Equal(-1, bytes.AsSpan().IndexOf(clear.AsSpan(38, 16)));
    }

    [Fact]
    public void A_packet_holds_as_many_entries_as_fit_in_1200_bytes_and_no_more()
    {
        Assert.Equal(17, GossipCodec.MaxEntries);
        Assert.Equal(8, GossipCodec.MaxSignedEntries);
        Assert.True(GossipCodec.Overhead + (GossipCodec.MaxEntries + 1) * GossipCodec.EntrySize > 1200);
        var tooMany = Enumerable.Range(1, GossipCodec.MaxEntries + 1).Select(i => Vector((ushort)i)).ToArray();
        Assert.Throws<ArgumentException>(() => GossipCodec.Encode(new PacketHeader(1, 1, 1), Now, tooMany, null, [], _keys));
        Assert.Throws<ArgumentException>(() => Keyring.Of([new ClusterSecret(1, Now, Now, [.. new byte[15]])]));
    }

    [Fact]
    public void Each_kind_of_bad_packet_is_refused_for_its_own_reason()
    {
        var good = Packet();
        Assert.Equal(RejectReason.TooShort, Reject(good[..20]));
        Assert.Equal(RejectReason.TooLong, Reject(new byte[GossipCodec.MaxPacketSize + 1]));
        Assert.Equal(RejectReason.BadMagic, Reject(Mutate(good, 0, 0x58)));
        Assert.Equal(RejectReason.UnsupportedVersion, Reject(Mutate(good, 4, 1)));
        Assert.Equal(RejectReason.UnknownKey, Reject(Mutate(good, 5, 9)));
        Assert.Equal(RejectReason.BadMac, Reject(good[..^1]));
        Assert.Equal(RejectReason.BadMac, Reject([.. good, 0]));
        Assert.Equal(RejectReason.Stale, Reject(Packet(at: Now.AddSeconds(-31))));
        Assert.Equal(RejectReason.Stale, Reject(Packet(at: Now.AddSeconds(31))));
        Assert.Equal(RejectReason.BadCount, Reject(Reseal(good, body => body[9] = 4)));
        Assert.Equal(RejectReason.BadCount, Reject(Reseal(good, body => body[8] = 2)));
        Assert.Equal(RejectReason.BadEntry, Reject(Reseal(good, body => body[Entries + 2] = 3)));
        Assert.Equal(RejectReason.BadEntry, Reject(Reseal(good, body => body[Entries + 3] = 0x10)));
        // Utilization above 1000 thousandths (0x10 in the high byte is 4096).
        Assert.Equal(RejectReason.BadEntry, Reject(Reseal(good, body => body[Entries + 63] = 0x10)));
        Assert.Equal(RejectReason.BadEntry, Reject(Reseal(good, body => body[Entries] = body[Entries + 1] = 0)));
        Assert.Equal(RejectReason.BadEntry, Reject(Reseal(good, body => BinaryPrimitives.WriteDoubleLittleEndian(body[(Entries + 20)..], double.NaN))));
        Assert.Equal(RejectReason.Stale, Reject(Reseal(good, body => BinaryPrimitives.WriteInt64LittleEndian(body, long.MaxValue))));
    }

    [Fact]
    public void A_tampered_byte_anywhere_is_refused()
    {
        var good = Packet();
        for (var offset = 0; offset < good.Length; offset++)
            Assert.False(GossipCodec.TryDecode(Mutate(good, offset, good[offset] ^ 0x01), _keys, Guard(), out _, out _), $"byte {offset}");
    }

    [Fact]
    public void A_packet_under_a_key_the_receiver_does_not_hold_is_refused()
    {
        using var other = TestKeys.Gossip((2, 50));
        using var sameIdOtherSecret = TestKeys.Gossip((1, 50));
        Assert.Equal(RejectReason.UnknownKey, Reject(Packet(keys: other)));
        Assert.Equal(RejectReason.BadMac, Reject(Packet(keys: sameIdOtherSecret)));
    }

    [Fact]
    public void Within_the_window_the_timestamp_is_accepted()
    {
        Assert.True(GossipCodec.TryDecode(Packet(at: Now.AddSeconds(-30)), _keys, Guard(), out _, out _));
        Assert.True(GossipCodec.TryDecode(Packet(at: Now.AddSeconds(30)), _keys, Guard(), out _, out _));
    }

    [Fact]
    public void A_sequence_not_above_the_last_accepted_is_a_replay()
    {
        var guard = Guard();
        Assert.True(GossipCodec.TryDecode(Packet(sequence: 10), _keys, guard, out _, out _));
        Assert.False(GossipCodec.TryDecode(Packet(sequence: 10), _keys, guard, out _, out var again));
        Assert.Equal(RejectReason.Replayed, again);
        Assert.False(GossipCodec.TryDecode(Packet(sequence: 9), _keys, guard, out _, out var older));
        Assert.Equal(RejectReason.Replayed, older);
        Assert.True(GossipCodec.TryDecode(Packet(sequence: 11), _keys, guard, out _, out _));
    }

    [Fact]
    public void A_replay_under_an_older_key_of_the_ring_is_still_a_replay()
    {
        using var both = TestKeys.Gossip((1, 1), (2, 70));
        var guard = Guard();
        var old = Packet(sequence: 10, keys: both);
        Assert.True(GossipCodec.TryDecode(Packet(sequence: 11, keys: both), both, guard, out _, out _));
        Assert.False(GossipCodec.TryDecode(old, both, guard, out _, out var reason));
        Assert.Equal(RejectReason.Replayed, reason);
    }

    [Fact]
    public void A_forged_packet_does_not_advance_the_replay_guard()
    {
        var guard = Guard();
        var forged = Mutate(Packet(sequence: 1000), 40, 0xEE);
        Assert.False(GossipCodec.TryDecode(forged, _keys, guard, out _, out _));
        Assert.True(GossipCodec.TryDecode(Packet(sequence: 11), _keys, guard, out _, out _));
    }

    [Fact]
    public void Random_damage_never_throws_and_never_gets_accepted()
    {
        var random = new Random(4242);
        var good = Packet(sequence: 1, entries: 6);
        var accepted = 0;
        for (var round = 0; round < 3000; round++)
        {
            var bytes = (round % 4) switch
            {
                0 => FlipRandomBytes(good, random),
                1 => good[..random.Next(good.Length)],
                2 => RandomBytes(random, random.Next(GossipCodec.MaxPacketSize + 64)),
                _ => [.. good, .. RandomBytes(random, random.Next(1, 64))],
            };
            if (GossipCodec.TryDecode(bytes, _keys, Guard(), out _, out _))
                accepted++;
        }
        Assert.Equal(0, accepted);
        Assert.True(GossipCodec.TryDecode(good, _keys, Guard(), out _, out _));
    }

    private static byte[] FlipRandomBytes(byte[] source, Random random)
    {
        var copy = (byte[])source.Clone();
        var flips = random.Next(1, 5);
        for (var i = 0; i < flips; i++)
            copy[random.Next(copy.Length)] ^= (byte)random.Next(1, 256);
        return copy;
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        if (length >= 7 && random.Next(2) == 0)
            "OMGP\u0002\u0001\u0000"u8.CopyTo(bytes);
        return bytes;
    }

    private RejectReason Reject(byte[] bytes)
    {
        Assert.False(GossipCodec.TryDecode(bytes, _keys, Guard(), out _, out var reason));
        return reason;
    }

    private static byte[] Mutate(byte[] source, int offset, params int[] values)
    {
        var copy = (byte[])source.Clone();
        for (var i = 0; i < values.Length; i++)
            copy[offset + i] = (byte)values[i];
        return copy;
    }

    /// <summary>Decrypts, edits and re-encrypts a packet as a key holder could, so checks behind the tag are reached.</summary>
    private byte[] Reseal(byte[] packet, SpanEdit edit)
    {
        var copy = (byte[])packet.Clone();
        var nonce = copy.AsSpan(7, PacketKeys.NonceSize);
        var body = new byte[copy.Length - Body - PacketKeys.TagSize];
        Assert.True(_keys.TryOpen(1, nonce, copy.AsSpan(Body, body.Length), copy.AsSpan(copy.Length - PacketKeys.TagSize), body, copy.AsSpan(0, Body)));
        edit(body);
        _keys.Seal(1, nonce, body, copy.AsSpan(Body, body.Length), copy.AsSpan(copy.Length - PacketKeys.TagSize), copy.AsSpan(0, Body));
        return copy;
    }

    private delegate void SpanEdit(Span<byte> body);
}
