using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using OpenMosix.Cluster.Gossip.Origins;
using OpenMosix.Cluster.Keys;

namespace OpenMosix.Cluster.Gossip;

/// <summary>
/// A gossip packet, encrypted and authenticated with AES-256-GCM under the keyring (docs/gossip.md):
/// in clear, and authenticated as associated data, <c>magic "OMGP" | format u8 | key id u16 | sender u16 | salt u16 |
/// sequence u64</c> (<see cref="HeaderSize"/> bytes; the last 12 are the nonce); then encrypted
/// <c>unix ms i64 | flags u8 | count u8 | certificate length u16 | certificate | count × (entry [| signature])</c>;
/// then the 16-byte tag. Entries are <see cref="GossipEntryCodec.RangedSize"/> bytes in format 3 (with the origin's
/// protocol versions), <see cref="GossipEntryCodec.Size"/> in format 2, which nodes before it speak and which a node
/// still sends to a peer it last heard in format 2 (<see cref="GossipNode"/>). A packet never exceeds <see cref="MaxPacketSize"/> so it fits one UDP datagram without IP
/// fragmentation on any sane path.
/// </summary>
public static class GossipCodec
{
    public const int MaxPacketSize = 1200;
    public const byte FormatVersion = 3;
    /// <summary>The format of nodes that do not gossip their protocol versions: read, and sent to them.</summary>
    public const byte LegacyFormat = 2;
    public const int HeaderSize = 19;
    private const int NonceOffset = 7;
    private const int BodyHeaderSize = 12;
    public const int Overhead = HeaderSize + BodyHeaderSize + PacketKeys.TagSize;
    public const int EntrySize = GossipEntryCodec.RangedSize;
    public const int SignedEntrySize = EntrySize + OriginSignature.Size;
    public const int MaxEntries = (MaxPacketSize - Overhead) / EntrySize;
    public const int MaxSignedEntries = (MaxPacketSize - Overhead) / SignedEntrySize;

    private const byte SignedFlag = 1;
    private static ReadOnlySpan<byte> Magic => "OMGP"u8;

    /// <summary>How many signed entries fit beside a certificate of <paramref name="certificateLength"/> bytes.</summary>
    public static int SignedEntriesBeside(int certificateLength) =>
        Math.Max(0, (MaxPacketSize - Overhead - certificateLength) / SignedEntrySize);

    /// <param name="signatures">One origin signature per entry, or null for an unsigned packet.</param>
    /// <param name="certificate">The sender's certificate to send along, or empty.</param>
    /// <param name="format"><see cref="FormatVersion"/>, or <see cref="LegacyFormat"/> for a node before it (then no
    /// entry may carry protocol versions).</param>
    public static byte[] Encode(PacketHeader header, DateTimeOffset timestamp, IReadOnlyList<LoadVector> entries,
        IReadOnlyList<byte[]>? signatures, ReadOnlySpan<byte> certificate, PacketKeys keys, byte format = FormatVersion)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(keys);
        if (signatures is not null && signatures.Count != entries.Count)
            throw new ArgumentException("one signature per entry is needed", nameof(signatures));
        if (format is not (FormatVersion or LegacyFormat))
            throw new ArgumentException($"gossip format {format} is not one this build writes", nameof(format));
        var entryBytes = EntryBytes(format);
        var entrySize = signatures is null ? entryBytes : entryBytes + OriginSignature.Size;
        var length = Overhead + certificate.Length + entries.Count * entrySize;
        if (length > MaxPacketSize || entries.Count > byte.MaxValue)
            throw new ArgumentException($"{entries.Count} entries and a {certificate.Length}-byte certificate do not fit one packet", nameof(entries));

        var body = new byte[length - HeaderSize - PacketKeys.TagSize];
        BinaryPrimitives.WriteInt64LittleEndian(body, timestamp.ToUnixTimeMilliseconds());
        body[8] = signatures is null ? (byte)0 : SignedFlag;
        body[9] = (byte)entries.Count;
        BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(10), (ushort)certificate.Length);
        certificate.CopyTo(body.AsSpan(BodyHeaderSize));
        var at = BodyHeaderSize + certificate.Length;
        for (var i = 0; i < entries.Count; i++, at += entrySize)
        {
            GossipEntryCodec.WriteRanged(body.AsSpan(at, entryBytes), entries[i]);
            if (signatures is null) continue;
            if (signatures[i].Length != OriginSignature.Size)
                throw new ArgumentException($"signature {i} has {signatures[i].Length} bytes, not {OriginSignature.Size}", nameof(signatures));
            signatures[i].CopyTo(body.AsSpan(at + entryBytes));
        }

        var packet = new byte[length];
        var span = packet.AsSpan();
        var keyId = keys.SendingKeyId(timestamp);
        Magic.CopyTo(span);
        span[4] = format;
        BinaryPrimitives.WriteUInt16LittleEndian(span[5..], keyId);
        BinaryPrimitives.WriteUInt16LittleEndian(span[7..], header.Sender);
        BinaryPrimitives.WriteUInt16LittleEndian(span[9..], header.Salt);
        BinaryPrimitives.WriteUInt64LittleEndian(span[11..], header.Sequence);
        keys.Seal(keyId, span[NonceOffset..HeaderSize], body, span[HeaderSize..^PacketKeys.TagSize], span[^PacketKeys.TagSize..],
            span[..HeaderSize]);
        return packet;
    }

    /// <summary>Decrypts, authenticates and parses a packet; never throws, whatever the bytes.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> data, PacketKeys keys, ReplayGuard guard,
        [MaybeNullWhen(false)] out GossipPacket packet, out RejectReason reason)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(guard);
        packet = null;
        if (!TryReadHeader(data, keys, guard, out var keyId, out var sender, out var sequence, out reason))
            return false;
        if (!TryReadBody(data, keys, guard, keyId, sender, sequence, out packet, out reason))
            return false;
        packet = packet with { Format = data[4] };
        return true;
    }

    /// <summary>Entry bytes in a packet of <paramref name="format"/>, signature not counted.</summary>
    private static int EntryBytes(byte format) => format == LegacyFormat ? GossipEntryCodec.Size : GossipEntryCodec.RangedSize;

    private static bool TryReadBody(ReadOnlySpan<byte> data, PacketKeys keys, ReplayGuard guard, ushort keyId, ushort sender,
        ulong sequence, [MaybeNullWhen(false)] out GossipPacket packet, out RejectReason reason)
    {
        packet = null;
        reason = default;
        var entryBytes = EntryBytes(data[4]);
        var body = new byte[data.Length - HeaderSize - PacketKeys.TagSize];
        if (!keys.TryOpen(keyId, data[NonceOffset..HeaderSize], data[HeaderSize..^PacketKeys.TagSize], data[^PacketKeys.TagSize..],
                body, data[..HeaderSize]))
            return Reject(RejectReason.BadMac, out reason);

        var unixMs = BinaryPrimitives.ReadInt64LittleEndian(body);
        // A timestamp DateTimeOffset cannot represent is certainly outside any replay window.
        if (unixMs < DateTimeOffset.MinValue.ToUnixTimeMilliseconds() || unixMs > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
            || guard.IsStale(DateTimeOffset.FromUnixTimeMilliseconds(unixMs)))
            return Reject(RejectReason.Stale, out reason);
        var flags = body[8];
        var count = body[9];
        var certificateLength = BinaryPrimitives.ReadUInt16LittleEndian(body.AsSpan(10));
        var entrySize = flags == SignedFlag ? entryBytes + OriginSignature.Size : entryBytes;
        if (flags > SignedFlag || body.Length != BodyHeaderSize + certificateLength + count * entrySize)
            return Reject(RejectReason.BadCount, out reason);

        var entries = ImmutableArray.CreateBuilder<LoadVector>(count);
        var signatures = ImmutableArray.CreateBuilder<byte[]>(flags == SignedFlag ? count : 0);
        for (var at = BodyHeaderSize + certificateLength; at < body.Length; at += entrySize)
        {
            if (!GossipEntryCodec.TryReadRanged(body.AsSpan(at, entryBytes), out var entry))
                return Reject(RejectReason.BadEntry, out reason);
            entries.Add(entry);
            if (flags == SignedFlag)
                signatures.Add(body.AsSpan(at + entryBytes, OriginSignature.Size).ToArray());
        }
        guard.Accept(sender, sequence);
        packet = new GossipPacket(sender, sequence, DateTimeOffset.FromUnixTimeMilliseconds(unixMs), entries.MoveToImmutable())
        {
            Signatures = signatures.MoveToImmutable(),
            Certificate = certificateLength == 0 ? null : body.AsSpan(BodyHeaderSize, certificateLength).ToArray(),
            KeyId = keyId,
        };
        return true;
    }

    /// <summary>Everything that can be refused before decrypting: size, magic, format, key id and replays.</summary>
    private static bool TryReadHeader(ReadOnlySpan<byte> data, PacketKeys keys, ReplayGuard guard, out ushort keyId,
        out ushort sender, out ulong sequence, out RejectReason reason)
    {
        keyId = sender = 0;
        sequence = 0;
        reason = default;
        if (data.Length > MaxPacketSize)
            return Reject(RejectReason.TooLong, out reason);
        if (data.Length < Overhead)
            return Reject(RejectReason.TooShort, out reason);
        if (!data[..4].SequenceEqual(Magic))
            return Reject(RejectReason.BadMagic, out reason);
        if (data[4] is not (FormatVersion or LegacyFormat))
            return Reject(RejectReason.UnsupportedVersion, out reason);
        keyId = BinaryPrimitives.ReadUInt16LittleEndian(data[5..]);
        sender = BinaryPrimitives.ReadUInt16LittleEndian(data[7..]);
        sequence = BinaryPrimitives.ReadUInt64LittleEndian(data[11..]);
        if (!keys.Knows(keyId))
            return Reject(RejectReason.UnknownKey, out reason);
        if (guard.IsReplay(sender, sequence))
            return Reject(RejectReason.Replayed, out reason);
        return true;
    }

    private static bool Reject(RejectReason why, out RejectReason reason)
    {
        reason = why;
        return false;
    }
}
