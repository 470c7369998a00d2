using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using OpenMosix.Cluster.Transport;

namespace OpenMosix.Cluster.Gossip;

/// <summary>
/// One load vector on the wire, <see cref="Size"/> bytes little-endian: node u16 | state u8 | flags u8 | address 16
/// (IPv4 as IPv4-mapped IPv6) | load f64 | speed u32 | cpus u16 | capacity u32 | total u64 | free u64 | version u64 |
/// utilization u16 (thousandths, at most 1000). Since gossip format 3 an entry is <see cref="RangedSize"/> bytes: the
/// same and the node protocol versions its origin speaks, min u8 | max u8, both 0 for an entry whose origin did not say
/// (an older node's, relayed): so a node knows every node's versions before any link is made.
/// </summary>
public static class GossipEntryCodec
{
    public const int Size = 64;
    public const int RangedSize = Size + 2;
    private const int StateOffset = 2;
    private const NodeFlags KnownFlags = NodeFlags.Blocked | NodeFlags.Quiet | NodeFlags.Stay | NodeFlags.LocalStay;
    private static ReadOnlySpan<byte> SignedDomain => "OMGE"u8;

    /// <summary>
    /// What an origin signs for <paramref name="entry"/>: a domain tag and the entry's bytes with the state zeroed
    /// (the state is each relayer's own view of the node, not the origin's word), its versions included when it has
    /// them. An entry without versions signs the 64 bytes an older node signs, so its signature holds when relayed in
    /// either format; one with versions cannot be stripped of them or given others without breaking its signature.
    /// </summary>
    public static byte[] SignedBytes(LoadVector entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var size = entry.Protocols is null ? Size : RangedSize;
        var bytes = new byte[SignedDomain.Length + size];
        SignedDomain.CopyTo(bytes);
        WriteRanged(bytes.AsSpan(SignedDomain.Length, size), entry with { State = NodeState.Alive });
        return bytes;
    }

    /// <summary>Writes <paramref name="entry"/> in <paramref name="span"/>.Length bytes: <see cref="Size"/> (format 2,
    /// no versions) or <see cref="RangedSize"/> (format 3: its versions, or 0-0 when it has none).</summary>
    public static void WriteRanged(Span<byte> span, LoadVector entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (span.Length == Size && entry.Protocols is not null)
            throw new ArgumentException($"node {entry.NodeId}'s entry has protocol versions, which format 2 cannot carry", nameof(entry));
        Write(span[..Size], entry);
        if (span.Length == Size) return;
        span[Size] = entry.Protocols?.Min ?? 0;
        span[Size + 1] = entry.Protocols?.Max ?? 0;
    }

    /// <summary>Reads an entry of <paramref name="span"/>.Length bytes (<see cref="Size"/> or <see cref="RangedSize"/>);
    /// versions other than 0-0 or 1 &lt;= min &lt;= max make it invalid.</summary>
    public static bool TryReadRanged(ReadOnlySpan<byte> span, out LoadVector entry)
    {
        if (!TryRead(span[..Size], out entry)) return false;
        if (span.Length == Size) return true;
        var (min, max) = (span[Size], span[Size + 1]);
        if (min == 0 && max == 0) return true;
        if (min == 0 || min > max)
        {
            entry = null!;
            return false;
        }
        entry = entry with { Protocols = new ProtocolRange(min, max) };
        return true;
    }

    public static void Write(Span<byte> span, LoadVector entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.NodeId == 0)
            throw new ArgumentException("node id 0 cannot be gossiped", nameof(entry));
        if (!double.IsFinite(entry.Load) || entry.Load < 0)
            throw new ArgumentException($"load {entry.Load} of node {entry.NodeId} is not a finite non-negative number", nameof(entry));
        BinaryPrimitives.WriteUInt16LittleEndian(span, entry.NodeId);
        span[StateOffset] = (byte)entry.State;
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

    public static bool TryRead(ReadOnlySpan<byte> span, out LoadVector entry)
    {
        entry = null!;
        var nodeId = BinaryPrimitives.ReadUInt16LittleEndian(span);
        var state = (NodeState)span[StateOffset];
        var flags = (NodeFlags)span[3];
        var load = BinaryPrimitives.ReadDoubleLittleEndian(span[20..]);
        var total = BinaryPrimitives.ReadUInt64LittleEndian(span[38..]);
        var free = BinaryPrimitives.ReadUInt64LittleEndian(span[46..]);
        if (nodeId == 0 || state > NodeState.Dead || (flags & ~KnownFlags) != 0 || !double.IsFinite(load) || load < 0
            || free > total || BinaryPrimitives.ReadUInt16LittleEndian(span[62..]) > LoadVector.FullUtilization)
            return false;
        entry = new LoadVector(nodeId, ReadAddress(span.Slice(4, 16)), state, load,
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
