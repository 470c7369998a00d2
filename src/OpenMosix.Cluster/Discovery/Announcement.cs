using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace OpenMosix.Cluster.Discovery;

/// <summary>
/// "Node ID is at ADDRESS": what omdiscd multicasts every interval. Layout (little-endian, 45 bytes):
/// <c>magic "OMDA" | format u8 | node u16 | address 16 (IPv4 as IPv4-mapped IPv6) | unix ms i64 | 16-byte HMAC-SHA256
/// prefix over the preceding bytes with the cluster key</c>. Announcements are idempotent, so a replay within the
/// clock window can only repeat what is true; an old one is refused.
/// </summary>
public sealed record Announcement(ushort NodeId, IPAddress Address, DateTimeOffset Timestamp)
{
    public const int Size = 4 + 1 + 2 + 16 + 8 + MacSize;
    public const byte FormatVersion = 1;
    private const int MacSize = 16;
    private static ReadOnlySpan<byte> Magic => "OMDA"u8;

    public byte[] Encode(ReadOnlySpan<byte> key)
    {
        var packet = new byte[Size];
        var span = packet.AsSpan();
        Magic.CopyTo(span);
        span[4] = FormatVersion;
        BinaryPrimitives.WriteUInt16LittleEndian(span[5..], NodeId);
        var address = Address.AddressFamily == AddressFamily.InterNetwork ? Address.MapToIPv6() : Address;
        if (!address.TryWriteBytes(span.Slice(7, 16), out var written) || written != 16)
            throw new ArgumentException($"{Address} is not an IPv4 or IPv6 address");
        BinaryPrimitives.WriteInt64LittleEndian(span[23..], Timestamp.ToUnixTimeMilliseconds());
        Mac(key, span[..^MacSize], span[^MacSize..]);
        return packet;
    }

    /// <summary>Checks size, magic, version, MAC and that the clock is within <paramref name="window"/> of now.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> data, ReadOnlySpan<byte> key, DateTimeOffset now, TimeSpan window,
        out Announcement? announcement, out string reason)
    {
        announcement = null;
        reason = data.Length != Size ? "bad-size"
            : !data[..4].SequenceEqual(Magic) ? "bad-magic"
            : data[4] != FormatVersion ? "unsupported-version"
            : "";
        if (reason.Length > 0) return false;
        Span<byte> expected = stackalloc byte[MacSize];
        Mac(key, data[..^MacSize], expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, data[^MacSize..]))
        {
            reason = "bad-mac";
            return false;
        }
        var nodeId = BinaryPrimitives.ReadUInt16LittleEndian(data[5..]);
        var unixMs = BinaryPrimitives.ReadInt64LittleEndian(data[23..]);
        if (nodeId == 0)
        {
            reason = "bad-node";
            return false;
        }
        // In double: a long subtraction wraps for a timestamp near long.MinValue, and Math.Abs of the result can overflow.
        if (Math.Abs((double)unixMs - now.ToUnixTimeMilliseconds()) > window.TotalMilliseconds)
        {
            reason = "stale";
            return false;
        }
        var address = new IPAddress(data.Slice(7, 16));
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        announcement = new Announcement(nodeId, address, DateTimeOffset.FromUnixTimeMilliseconds(unixMs));
        return true;
    }

    private static void Mac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> destination)
    {
        Span<byte> full = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(key, data, full);
        full[..MacSize].CopyTo(destination);
    }
}
