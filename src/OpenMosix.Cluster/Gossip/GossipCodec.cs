using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace OpenMosix.Cluster.Gossip;

/// <summary>
/// Binary little-endian gossip packet:
/// header <c>magic "OMGP" | format u8 | sender u16 | sequence u64 | unix ms i64 | count u16</c> (25 bytes),
/// <c>count</c> entries of <see cref="EntrySize"/> bytes, then the first 16 bytes of HMAC-SHA256 over all
/// preceding bytes with the cluster key. A packet never exceeds <see cref="MaxPacketSize"/> so it fits in one
/// UDP datagram without IP fragmentation on any sane path.
/// </summary>
public static class GossipCodec
{
    public const int MaxPacketSize = 1200;
    public const byte FormatVersion = 1;
    public const int HeaderSize = 25;
    public const int MacSize = 16;
    public const int MinKeySize = 16;

    /// <summary>
    /// Entry: node u16 | state u8 | flags u8 | address 16 (IPv4 as IPv4-mapped IPv6) | load f64 | speed u32 |
    /// cpus u16 | capacity u32 | total u64 | free u64 | version u64 | utilization u16 (thousandths, at most 1000).
    /// </summary>
    public const int EntrySize = 64;

    public const int MaxEntries = (MaxPacketSize - HeaderSize - MacSize) / EntrySize;

    private static readonly long MinUnixMs = DateTimeOffset.MinValue.ToUnixTimeMilliseconds();
    private static readonly long MaxUnixMs = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();
    private static ReadOnlySpan<byte> Magic => "OMGP"u8;
    private const NodeFlags KnownFlags = NodeFlags.Blocked | NodeFlags.Quiet | NodeFlags.Stay | NodeFlags.LocalStay;

    public static byte[] Encode(ushort sender, ulong sequence, DateTimeOffset timestamp,
        IReadOnlyList<LoadVector> entries, ReadOnlySpan<byte> key)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (key.Length < MinKeySize)
            throw new ArgumentException($"the cluster key must be at least {MinKeySize} bytes", nameof(key));
        if (entries.Count > MaxEntries)
            throw new ArgumentException($"{entries.Count} entries do not fit one packet (at most {MaxEntries})", nameof(entries));

        var packet = new byte[HeaderSize + entries.Count * EntrySize + MacSize];
        var span = packet.AsSpan();
        Magic.CopyTo(span);
        span[4] = FormatVersion;
        BinaryPrimitives.WriteUInt16LittleEndian(span[5..], sender);
        BinaryPrimitives.WriteUInt64LittleEndian(span[7..], sequence);
        BinaryPrimitives.WriteInt64LittleEndian(span[15..], timestamp.ToUnixTimeMilliseconds());
        BinaryPrimitives.WriteUInt16LittleEndian(span[23..], (ushort)entries.Count);
        for (var i = 0; i < entries.Count; i++)
            WriteEntry(span.Slice(HeaderSize + i * EntrySize, EntrySize), entries[i]);
        var macStart = packet.Length - MacSize;
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(key, span[..macStart], mac);
        mac[..MacSize].CopyTo(span[macStart..]);
        return packet;
    }

    /// <summary>Decodes and authenticates a packet; never throws, whatever the bytes.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> data, ReadOnlySpan<byte> key, ReplayGuard guard,
        [MaybeNullWhen(false)] out GossipPacket packet, out RejectReason reason)
    {
        packet = null;
        if (!TryValidate(data, key, out reason))
            return false;
        var count = BinaryPrimitives.ReadUInt16LittleEndian(data[23..]);
        var entries = ImmutableArray.CreateBuilder<LoadVector>(count);
        for (var i = 0; i < count; i++)
        {
            if (!TryReadEntry(data.Slice(HeaderSize + i * EntrySize, EntrySize), out var entry))
            {
                reason = RejectReason.BadEntry;
                return false;
            }
            entries.Add(entry);
        }
        var sender = BinaryPrimitives.ReadUInt16LittleEndian(data[5..]);
        var sequence = BinaryPrimitives.ReadUInt64LittleEndian(data[7..]);
        var unixMs = BinaryPrimitives.ReadInt64LittleEndian(data[15..]);
        // A timestamp DateTimeOffset cannot represent is certainly outside any replay window.
        if (unixMs < MinUnixMs || unixMs > MaxUnixMs)
        {
            reason = RejectReason.Stale;
            return false;
        }
        var timestamp = DateTimeOffset.FromUnixTimeMilliseconds(unixMs);
        if (guard.Check(sender, sequence, timestamp) is { } late)
        {
            reason = late;
            return false;
        }
        guard.Accept(sender, sequence);
        packet = new GossipPacket(sender, sequence, timestamp, entries.MoveToImmutable());
        return true;
    }

    private static bool TryValidate(ReadOnlySpan<byte> data, ReadOnlySpan<byte> key, out RejectReason reason)
    {
        reason = default;
        if (data.Length > MaxPacketSize)
            return Reject(RejectReason.TooLong, out reason);
        if (data.Length < HeaderSize + MacSize)
            return Reject(RejectReason.TooShort, out reason);
        if (!data[..4].SequenceEqual(Magic))
            return Reject(RejectReason.BadMagic, out reason);
        if (data[4] != FormatVersion)
            return Reject(RejectReason.UnsupportedVersion, out reason);
        var count = BinaryPrimitives.ReadUInt16LittleEndian(data[23..]);
        if (count > MaxEntries)
            return Reject(RejectReason.BadCount, out reason);
        var expected = HeaderSize + count * EntrySize + MacSize;
        if (data.Length < expected)
            return Reject(RejectReason.TooShort, out reason);
        if (data.Length > expected)
            return Reject(RejectReason.TooLong, out reason);
        if (key.Length < MinKeySize)
            return Reject(RejectReason.BadMac, out reason);
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(key, data[..^MacSize], mac);
        if (!CryptographicOperations.FixedTimeEquals(mac[..MacSize], data[^MacSize..]))
            return Reject(RejectReason.BadMac, out reason);
        return true;
    }

    private static bool Reject(RejectReason why, out RejectReason reason)
    {
        reason = why;
        return false;
    }

    private static void WriteEntry(Span<byte> span, LoadVector entry)
    {
        if (entry.NodeId == 0)
            throw new ArgumentException("node id 0 cannot be gossiped", nameof(entry));
        if (!double.IsFinite(entry.Load) || entry.Load < 0)
            throw new ArgumentException($"load {entry.Load} of node {entry.NodeId} is not a finite non-negative number", nameof(entry));
        BinaryPrimitives.WriteUInt16LittleEndian(span, entry.NodeId);
        span[2] = (byte)entry.State;
        span[3] = (byte)entry.Flags;
        var address = entry.Address.AddressFamily == AddressFamily.InterNetwork ? entry.Address.MapToIPv6() : entry.Address;
        if (!address.TryWriteBytes(span.Slice(4, 16), out var written) || written != 16)
            throw new ArgumentException($"address {entry.Address} of node {entry.NodeId} is not IPv4 or IPv6", nameof(entry));
        BinaryPrimitives.WriteDoubleLittleEndian(span[20..], entry.Load);
        BinaryPrimitives.WriteUInt32LittleEndian(span[28..], entry.Speed);
        BinaryPrimitives.WriteUInt16LittleEndian(span[32..], entry.Cpus);
        BinaryPrimitives.WriteUInt32LittleEndian(span[34..], entry.Capacity);
        BinaryPrimitives.WriteUInt64LittleEndian(span[38..], entry.TotalMemory);
        BinaryPrimitives.WriteUInt64LittleEndian(span[46..], entry.FreeMemory);
        BinaryPrimitives.WriteUInt64LittleEndian(span[54..], entry.Version);
        BinaryPrimitives.WriteUInt16LittleEndian(span[62..], Math.Min(entry.Utilization, LoadVector.FullUtilization));
    }

    private static bool TryReadEntry(ReadOnlySpan<byte> span, out LoadVector entry)
    {
        entry = null!;
        var nodeId = BinaryPrimitives.ReadUInt16LittleEndian(span);
        var state = (NodeState)span[2];
        var flags = (NodeFlags)span[3];
        var load = BinaryPrimitives.ReadDoubleLittleEndian(span[20..]);
        var total = BinaryPrimitives.ReadUInt64LittleEndian(span[38..]);
        var free = BinaryPrimitives.ReadUInt64LittleEndian(span[46..]);
        if (nodeId == 0 || state > NodeState.Dead || (flags & ~KnownFlags) != 0 || !double.IsFinite(load) || load < 0
            || free > total || BinaryPrimitives.ReadUInt16LittleEndian(span[62..]) > LoadVector.FullUtilization)
            return false;
        var address = ReadAddress(span.Slice(4, 16));
        entry = new LoadVector(nodeId, address, state, load,
            BinaryPrimitives.ReadUInt32LittleEndian(span[28..]),
            BinaryPrimitives.ReadUInt16LittleEndian(span[32..]),
            BinaryPrimitives.ReadUInt32LittleEndian(span[34..]),
            total, free, flags,
            BinaryPrimitives.ReadUInt64LittleEndian(span[54..]))
        {
            Utilization = BinaryPrimitives.ReadUInt16LittleEndian(span[62..]),
        };
        return true;
    }

    private static IPAddress ReadAddress(ReadOnlySpan<byte> bytes)
    {
        // An IPv4-mapped address (::ffff:a.b.c.d) becomes a plain IPv4 address directly, without an IPv6 detour.
        ReadOnlySpan<byte> mappedPrefix = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF];
        return bytes.StartsWith(mappedPrefix) ? new IPAddress(bytes[12..]) : new IPAddress(bytes);
    }
}
