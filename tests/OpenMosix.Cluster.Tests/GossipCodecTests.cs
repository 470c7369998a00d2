using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using OpenMosix.Cluster.Gossip;

namespace OpenMosix.Cluster.Tests;

public sealed class GossipCodecTests
{
    private static readonly byte[] Key = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 4, 0, 0, TimeSpan.Zero);

    private static ReplayGuard Guard() => new(TimeSpan.FromSeconds(30), () => Now);

    internal static LoadVector Vector(ushort id, ulong version = 1) => new(
        id, id % 2 == 0 ? IPAddress.Parse($"10.0.{id >> 8}.{id & 255}") : IPAddress.Parse($"fd00::{id:x}"),
        NodeState.Alive, 0.75 + id, 12_500, 8, 80_000, 16UL << 30, 3UL << 30, NodeFlags.Stay | NodeFlags.Quiet, version)
    {
        Utilization = (ushort)(id % 1001),
    };

    private static byte[] Packet(ulong sequence = 7, int entries = 3, DateTimeOffset? at = null) =>
        GossipCodec.Encode(5, sequence, at ?? Now, [.. Enumerable.Range(1, entries).Select(i => Vector((ushort)i, (ulong)i * 10))], Key);

    [Fact]
    public void Encoded_packet_decodes_to_the_same_entries()
    {
        var entries = Enumerable.Range(1, GossipCodec.MaxEntries).Select(i => Vector((ushort)(i * 1000), (ulong)i)).ToArray();
        var bytes = GossipCodec.Encode(42, 9, Now, entries, Key);

        Assert.True(bytes.Length <= GossipCodec.MaxPacketSize);
        Assert.True(GossipCodec.TryDecode(bytes, Key, Guard(), out var packet, out _));
        Assert.Equal(42, packet.Sender);
        Assert.Equal(9UL, packet.Sequence);
        Assert.Equal(Now, packet.Timestamp);
        Assert.Equal(entries, packet.Entries);
    }

    [Fact]
    public void A_packet_holds_as_many_entries_as_fit_in_1200_bytes_and_no_more()
    {
        Assert.True(GossipCodec.HeaderSize + GossipCodec.MaxEntries * GossipCodec.EntrySize + GossipCodec.MacSize <= 1200);
        Assert.True(GossipCodec.HeaderSize + (GossipCodec.MaxEntries + 1) * GossipCodec.EntrySize + GossipCodec.MacSize > 1200);
        var tooMany = Enumerable.Range(1, GossipCodec.MaxEntries + 1).Select(i => Vector((ushort)i)).ToArray();
        Assert.Throws<ArgumentException>(() => GossipCodec.Encode(1, 1, Now, tooMany, Key));
        Assert.Throws<ArgumentException>(() => GossipCodec.Encode(1, 1, Now, [], new byte[15]));
    }

    [Fact]
    public void Each_kind_of_bad_packet_is_refused_for_its_own_reason()
    {
        var good = Packet();
        Assert.Equal(RejectReason.TooShort, Reject(good[..20]));
        Assert.Equal(RejectReason.TooShort, Reject(good[..^1]));
        Assert.Equal(RejectReason.TooLong, Reject([.. good, 0]));
        Assert.Equal(RejectReason.TooLong, Reject(new byte[GossipCodec.MaxPacketSize + 1]));
        Assert.Equal(RejectReason.BadMagic, Reject(Mutate(good, 0, 0x58)));
        Assert.Equal(RejectReason.UnsupportedVersion, Reject(Mutate(good, 4, 2)));
        Assert.Equal(RejectReason.BadCount, Reject(Mutate(good, 23, GossipCodec.MaxEntries + 1)));
        Assert.Equal(RejectReason.BadMac, Reject(Mutate(good, 30, (byte)(good[30] ^ 1))));
        Assert.Equal(RejectReason.BadMac, Reject(good, key: [.. Key.Reverse()]));
        Assert.Equal(RejectReason.Stale, Reject(Packet(at: Now.AddSeconds(-31))));
        Assert.Equal(RejectReason.Stale, Reject(Packet(at: Now.AddSeconds(31))));
        Assert.Equal(RejectReason.BadEntry, Reject(Resign(Mutate(good, GossipCodec.HeaderSize + 2, 3))));
        Assert.Equal(RejectReason.BadEntry, Reject(Resign(Mutate(good, GossipCodec.HeaderSize + 3, 0x10))));
        // Utilization above 1000 thousandths (0x10 in the high byte is 4096).
        Assert.Equal(RejectReason.BadEntry, Reject(Resign(Mutate(good, GossipCodec.HeaderSize + 63, 0x10))));
        Assert.Equal(RejectReason.BadEntry, Reject(Resign(Mutate(good, GossipCodec.HeaderSize, 0, 0))));
        var nanLoad = (byte[])good.Clone();
        BinaryPrimitives.WriteDoubleLittleEndian(nanLoad.AsSpan(GossipCodec.HeaderSize + 20), double.NaN);
        Assert.Equal(RejectReason.BadEntry, Reject(Resign(nanLoad)));
        var farFuture = (byte[])good.Clone();
        BinaryPrimitives.WriteInt64LittleEndian(farFuture.AsSpan(15), long.MaxValue);
        Assert.Equal(RejectReason.Stale, Reject(Resign(farFuture)));
    }

    [Fact]
    public void Within_the_window_the_timestamp_is_accepted()
    {
        Assert.True(GossipCodec.TryDecode(Packet(at: Now.AddSeconds(-30)), Key, Guard(), out _, out _));
        Assert.True(GossipCodec.TryDecode(Packet(at: Now.AddSeconds(30)), Key, Guard(), out _, out _));
    }

    [Fact]
    public void A_sequence_not_above_the_last_accepted_is_a_replay()
    {
        var guard = Guard();
        Assert.True(GossipCodec.TryDecode(Packet(sequence: 10), Key, guard, out _, out _));
        Assert.False(GossipCodec.TryDecode(Packet(sequence: 10), Key, guard, out _, out var again));
        Assert.Equal(RejectReason.Replayed, again);
        Assert.False(GossipCodec.TryDecode(Packet(sequence: 9), Key, guard, out _, out var older));
        Assert.Equal(RejectReason.Replayed, older);
        Assert.True(GossipCodec.TryDecode(Packet(sequence: 11), Key, guard, out _, out _));
    }

    [Fact]
    public void A_forged_packet_does_not_advance_the_replay_guard()
    {
        var guard = Guard();
        var forged = Mutate(Packet(sequence: 1000), 40, 0xEE);
        Assert.False(GossipCodec.TryDecode(forged, Key, guard, out _, out _));
        Assert.True(GossipCodec.TryDecode(Packet(sequence: 11), Key, guard, out _, out _));
    }

    [Fact]
    public void Random_damage_never_throws_and_never_gets_accepted()
    {
        var random = new Random(4242);
        var good = Packet(sequence: 1, entries: 6);
        var watch = Stopwatch.StartNew();
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
            if (GossipCodec.TryDecode(bytes, Key, Guard(), out _, out _))
                accepted++;
        }
        Assert.Equal(0, accepted);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"fuzz sweep took {watch.Elapsed}");
        Assert.True(GossipCodec.TryDecode(good, Key, Guard(), out _, out _));
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
        if (length >= 4 && random.Next(2) == 0)
            "OMGP"u8.CopyTo(bytes);
        return bytes;
    }

    private static RejectReason Reject(byte[] bytes, byte[]? key = null)
    {
        Assert.False(GossipCodec.TryDecode(bytes, key ?? Key, Guard(), out _, out var reason));
        return reason;
    }

    private static byte[] Mutate(byte[] source, int offset, params int[] values)
    {
        var copy = (byte[])source.Clone();
        for (var i = 0; i < values.Length; i++)
            copy[offset + i] = (byte)values[i];
        return copy;
    }

    /// <summary>Re-signs a tampered packet as a key holder would, so checks behind the MAC are reached.</summary>
    private static byte[] Resign(byte[] packet)
    {
        var mac = HMACSHA256.HashData(Key, packet.AsSpan(0, packet.Length - GossipCodec.MacSize));
        mac.AsSpan(0, GossipCodec.MacSize).CopyTo(packet.AsSpan(packet.Length - GossipCodec.MacSize));
        return packet;
    }
}
