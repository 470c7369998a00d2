using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using OpenMosix.Cluster.Gossip.Origins;
using OpenMosix.Cluster.Keys;

namespace OpenMosix.Cluster.Discovery;

/// <summary>
/// "Node ID is at ADDRESS": what omdiscd multicasts every interval, encrypted and authenticated with AES-256-GCM
/// under the keyring (discovery subkeys). In clear, as associated data: <c>magic "OMDA" | format u8 | key id u16 |
/// nonce 12 (random)</c>; encrypted: <c>node u16 | address 16 (IPv4 as IPv4-mapped IPv6) | unix ms i64 | certificate
/// length u16 | certificate | signature length u8 | signature</c>; then the tag. With origin keys the node signs
/// node, address and time with its own key and sends its certificate, so no other key holder can claim its id.
/// Announcements are idempotent, so a replay within the clock window can only repeat what is true; an old one is
/// refused.
/// </summary>
public sealed record Announcement(ushort NodeId, IPAddress Address, DateTimeOffset Timestamp)
{
    public const byte FormatVersion = 2;
    public const int MaxSize = 1400;
    private const int HeaderSize = 19;
    private const int NonceOffset = 7;
    private const int ClaimSize = 2 + 16 + 8;
    private const int MinSize = HeaderSize + ClaimSize + 2 + 1 + PacketKeys.TagSize;
    private static ReadOnlySpan<byte> Magic => "OMDA"u8;
    private static ReadOnlySpan<byte> SignedDomain => "OMDS"u8;

    /// <param name="origin">Signs the announcement when given (then it must be this node's).</param>
    public byte[] Encode(PacketKeys keys, IOriginKeys? origin = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var claim = Claim();
        var certificate = origin is null ? ReadOnlySpan<byte>.Empty : origin.OwnCertificate.Span;
        var signature = origin is null ? [] : origin.Sign([.. SignedDomain, .. claim]);
        var body = new byte[ClaimSize + 2 + certificate.Length + 1 + signature.Length];
        claim.CopyTo(body, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(ClaimSize), (ushort)certificate.Length);
        certificate.CopyTo(body.AsSpan(ClaimSize + 2));
        body[ClaimSize + 2 + certificate.Length] = (byte)signature.Length;
        signature.CopyTo(body, body.Length - signature.Length);

        var packet = new byte[HeaderSize + body.Length + PacketKeys.TagSize];
        if (packet.Length > MaxSize)
            throw new ArgumentException($"a {certificate.Length}-byte certificate makes the announcement too large", nameof(origin));
        var span = packet.AsSpan();
        var keyId = keys.SendingKeyId(Timestamp);
        Magic.CopyTo(span);
        span[4] = FormatVersion;
        BinaryPrimitives.WriteUInt16LittleEndian(span[5..], keyId);
        // Random nonces: one announcement a second per interface is far from the 2^32 messages a key can take so.
        RandomNumberGenerator.Fill(span[NonceOffset..HeaderSize]);
        keys.Seal(keyId, span[NonceOffset..HeaderSize], body, span[HeaderSize..^PacketKeys.TagSize], span[^PacketKeys.TagSize..],
            span[..HeaderSize]);
        return packet;
    }

    /// <summary>
    /// Checks size, magic, version, key, tag, that the clock is within <paramref name="window"/> of now and, when
    /// <paramref name="origins"/> is given, the node's certificate and signature. Never throws, whatever the bytes.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> data, PacketKeys keys, IOriginKeys? origins, DateTimeOffset now,
        TimeSpan window, out Announcement? announcement, out string reason)
    {
        ArgumentNullException.ThrowIfNull(keys);
        announcement = null;
        var keyId = data.Length >= HeaderSize ? BinaryPrimitives.ReadUInt16LittleEndian(data[5..]) : (ushort)0;
        reason = data.Length < MinSize || data.Length > MaxSize ? "bad-size"
            : !data[..4].SequenceEqual(Magic) ? "bad-magic"
            : data[4] != FormatVersion ? "unsupported-version"
            : !keys.Knows(keyId) ? "unknown-key"
            : "";
        if (reason.Length > 0) return false;
        var body = new byte[data.Length - HeaderSize - PacketKeys.TagSize];
        if (!keys.TryOpen(keyId, data[NonceOffset..HeaderSize], data[HeaderSize..^PacketKeys.TagSize], data[^PacketKeys.TagSize..],
                body, data[..HeaderSize]))
        {
            reason = "bad-mac";
            return false;
        }
        var nodeId = BinaryPrimitives.ReadUInt16LittleEndian(body);
        var unixMs = BinaryPrimitives.ReadInt64LittleEndian(body.AsSpan(18));
        var certificateLength = BinaryPrimitives.ReadUInt16LittleEndian(body.AsSpan(ClaimSize));
        var signatureAt = ClaimSize + 2 + certificateLength;
        reason = signatureAt >= body.Length || body.Length != signatureAt + 1 + body[signatureAt] ? "bad-layout"
            : nodeId == 0 ? "bad-node"
            : Math.Abs((double)unixMs - now.ToUnixTimeMilliseconds()) > window.TotalMilliseconds ? "stale"
            : origins is null ? ""
            : body[signatureAt] == 0 || certificateLength == 0 ? "unsigned"
            : !origins.Learn(nodeId, body.AsSpan(ClaimSize + 2, certificateLength)) ? "bad-certificate"
            : !origins.Verify(nodeId, [.. SignedDomain, .. body.AsSpan(0, ClaimSize)], body.AsSpan(signatureAt + 1)) ? "bad-signature"
            : "";
        if (reason.Length > 0) return false;
        var address = new IPAddress(body.AsSpan(2, 16));
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        announcement = new Announcement(nodeId, address, DateTimeOffset.FromUnixTimeMilliseconds(unixMs));
        return true;
    }

    private byte[] Claim()
    {
        var claim = new byte[ClaimSize];
        BinaryPrimitives.WriteUInt16LittleEndian(claim, NodeId);
        var address = Address.AddressFamily == AddressFamily.InterNetwork ? Address.MapToIPv6() : Address;
        if (!address.TryWriteBytes(claim.AsSpan(2, 16), out var written) || written != 16)
            throw new ArgumentException($"{Address} is not an IPv4 or IPv6 address");
        BinaryPrimitives.WriteInt64LittleEndian(claim.AsSpan(18), Timestamp.ToUnixTimeMilliseconds());
        return claim;
    }
}
