using System.Buffers.Binary;
using System.Security.Cryptography;

namespace OpenMosix.Cluster.Transport;

/// <summary>
/// The keys of a link's record layer. TLS 1.3 through SslStream costs about twice the raw AES-GCM of the bytes it
/// carries (copies into its own buffers, 16 KiB records, a call per record), so once the mutual TLS handshake is done
/// each side sends <see cref="ShareSize"/> fresh random bytes inside the TLS session, and the frames after it go as
/// records of our own (<see cref="FrameWriter"/>, <see cref="FrameReader"/>), a whole frame per record, encrypted in
/// place. Only the two authenticated ends ever see both shares (they crossed in TLS), so only they can derive the
/// keys: HKDF-Extract over both shares, then one traffic secret per direction, expanded with the direction, both node
/// ids and the cipher the two chose (<see cref="RecordCiphers.Choose"/>), so that no key serves two ciphers. Fresh
/// shares make every link's keys its own; neither side alone chooses them. See docs/security.md.
/// </summary>
internal static class LinkKeys
{
    public const int ShareSize = 32;
    private static ReadOnlySpan<byte> Salt => "openMosix node link records v1"u8;
    private static ReadOnlySpan<byte> ClientToServerLabel => "omnl client to server"u8;
    private static ReadOnlySpan<byte> ServerToClientLabel => "omnl server to client"u8;

    public static byte[] NewShare() => RandomNumberGenerator.GetBytes(ShareSize);

    /// <summary>The sending and receiving directions of one end: the client's sending one is the server's receiving one.</summary>
    public static (RecordDirection Sending, RecordDirection Receiving) Derive(ReadOnlySpan<byte> clientShare, ReadOnlySpan<byte> serverShare,
        ushort clientNode, ushort serverNode, bool asClient, RecordCipher cipher = RecordCipher.Aes128Gcm)
    {
        if (clientShare.Length != ShareSize || serverShare.Length != ShareSize)
            throw new ArgumentException($"a key share is {ShareSize} bytes");
        Span<byte> both = stackalloc byte[2 * ShareSize];
        clientShare.CopyTo(both);
        serverShare.CopyTo(both[ShareSize..]);
        Span<byte> master = stackalloc byte[RecordDirection.SecretSize];
        HKDF.Extract(HashAlgorithmName.SHA256, both, Salt, master);
        CryptographicOperations.ZeroMemory(both);
        var toServer = Direction(master, ClientToServerLabel, clientNode, serverNode, cipher);
        var toClient = Direction(master, ServerToClientLabel, clientNode, serverNode, cipher);
        CryptographicOperations.ZeroMemory(master);
        return asClient ? (toServer, toClient) : (toClient, toServer);
    }

    private static RecordDirection Direction(ReadOnlySpan<byte> master, ReadOnlySpan<byte> label, ushort clientNode, ushort serverNode,
        RecordCipher cipher)
    {
        Span<byte> info = stackalloc byte[label.Length + 5];
        label.CopyTo(info);
        BinaryPrimitives.WriteUInt16LittleEndian(info[label.Length..], clientNode);
        BinaryPrimitives.WriteUInt16LittleEndian(info[(label.Length + 2)..], serverNode);
        info[label.Length + 4] = (byte)cipher;
        Span<byte> secret = stackalloc byte[RecordDirection.SecretSize];
        HKDF.Expand(HashAlgorithmName.SHA256, master, secret, info);
        var direction = new RecordDirection(secret, cipher);
        CryptographicOperations.ZeroMemory(secret);
        return direction;
    }
}
