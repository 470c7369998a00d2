using System.Buffers.Binary;
using System.Net.Security;
using System.Security.Authentication;

namespace OpenMosix.Cluster.Transport;

/// <summary>What a peer said in its hello: who it is, its key share, its ciphers and the protocol versions it speaks.</summary>
internal readonly record struct PeerHello(ushort Node, byte[] Share, RecordCipher Ciphers, ProtocolRange Versions);

/// <summary>
/// The one message each side sends in TLS after the handshake: <c>"OMNL" | lowest version u8 | node u16 | key share |
/// ciphers u8 [| highest version u8]</c>. The cipher byte's top bit says that the highest version follows; a node of
/// version 6 (before ranges) has no such bit, checks only that the version byte is 6, reads the fixed part and drops
/// the rest of the record with TLS (the hello goes in one write, so in one TLS record). So a node that speaks 6-7 links
/// with a node of version 6 at 6, and with one of 7 at 7.
/// </summary>
internal static class LinkHello
{
    private const int FixedSize = 4 + 1 + 2 + LinkKeys.ShareSize + 1;
    /// <summary>Set in the cipher byte when the highest version follows it (no cipher is ever this bit).</summary>
    internal const byte RangeFollows = 0x80;
    private static ReadOnlySpan<byte> Magic => "OMNL"u8;

    /// <summary>The hello's bytes: a range of one version (of a single-version node) is sent as version 6 sent it, with
    /// no trailer, so tests can stand for such a node.</summary>
    internal static byte[] Encode(ushort node, byte[] share, RecordCipher ciphers, ProtocolRange versions)
    {
        var ranged = versions.Min != versions.Max;
        var hello = new byte[FixedSize + (ranged ? 1 : 0)];
        Magic.CopyTo(hello);
        hello[4] = versions.Min;
        BinaryPrimitives.WriteUInt16LittleEndian(hello.AsSpan(5), node);
        share.CopyTo(hello.AsSpan(7));
        hello[7 + LinkKeys.ShareSize] = (byte)((byte)ciphers | (ranged ? RangeFollows : 0));
        if (ranged) hello[^1] = versions.Max;
        return hello;
    }

    internal static async Task SayAsync(SslStream tls, ushort node, byte[] share, RecordCipher ciphers, ProtocolRange versions,
        CancellationToken cancel)
    {
        await tls.WriteAsync(Encode(node, share, ciphers, versions), cancel).ConfigureAwait(false);
        await tls.FlushAsync(cancel).ConfigureAwait(false);
    }

    internal static async Task<PeerHello> ReadAsync(Stream tls, string from, string hungUp, CancellationToken cancel)
    {
        var hello = new byte[FixedSize + 1];
        try
        {
            await tls.ReadExactlyAsync(hello.AsMemory(0, 5), cancel).ConfigureAwait(false);
            if (!hello.AsSpan(0, 4).SequenceEqual(Magic)) throw new LinkException($"{from} does not speak the openMosix node protocol");
            await tls.ReadExactlyAsync(hello.AsMemory(5, FixedSize - 5), cancel).ConfigureAwait(false);
            if ((hello[FixedSize - 1] & RangeFollows) != 0) await tls.ReadExactlyAsync(hello.AsMemory(FixedSize, 1), cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or AuthenticationException)
        {
            throw new LinkException(hungUp, e);
        }
        return Decode(hello);
    }

    /// <summary>A hello read whole (<see cref="FixedSize"/> bytes, and the highest version when its bit says so).</summary>
    internal static PeerHello Decode(ReadOnlySpan<byte> hello)
    {
        var cipherByte = hello[FixedSize - 1];
        var ranged = (cipherByte & RangeFollows) != 0;
        var min = hello[4];
        // A highest version below the lowest is read as the lowest alone: the refusal then names what the peer said first.
        var max = ranged ? Math.Max(min, hello[FixedSize]) : min;
        return new PeerHello(BinaryPrimitives.ReadUInt16LittleEndian(hello[5..]), hello[7..(7 + LinkKeys.ShareSize)].ToArray(),
            (RecordCipher)(cipherByte & ~RangeFollows), new ProtocolRange(min, (byte)max));
    }

    /// <summary>The version both speak, or the one-line refusal naming both ranges (<paramref name="who"/> begins it).</summary>
    internal static byte Agree(ProtocolRange ours, ProtocolRange theirs, string who) =>
        ProtocolRange.Negotiate(ours, theirs)
        ?? throw new LinkException($"{who} speaks node protocol {theirs.Describe()}, this node {ours.Describe()}");
}
