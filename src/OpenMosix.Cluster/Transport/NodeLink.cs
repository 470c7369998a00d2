using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace OpenMosix.Cluster.Transport;

/// <summary>
/// A TCP connection between two omds that both proved they hold the cluster key, carrying frames
/// (<c>type u8 | length u32 | payload</c>, at most <see cref="MaxPayload"/> bytes). The handshake: the client sends
/// "OMNL", version, its node id and a fresh nonce; the server answers the same with its own nonce and an HMAC over
/// both hellos; the client answers with its HMAC. Either side that sees a wrong MAC hangs up, so a node without the
/// key learns nothing and can send nothing. Writes are serialised; one reader at a time.
/// </summary>
public sealed class NodeLink : IAsyncDisposable, IDisposable
{
    public const int MaxPayload = 1 << 20;
    public const byte ProtocolVersion = 1;
    private const int HelloSize = 4 + 1 + 2 + 16, MacSize = 32;
    private static ReadOnlySpan<byte> Magic => "OMNL"u8;
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly byte[] _header = new byte[5];

    private NodeLink(Socket socket, ushort peer)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        PeerNode = peer;
        RemoteAddress = ((IPEndPoint)socket.RemoteEndPoint!).Address;
    }

    /// <summary>The node id the other side claimed (and proved it belongs to the cluster).</summary>
    public ushort PeerNode { get; }
    public IPAddress RemoteAddress { get; }

    public static async Task<NodeLink> ConnectAsync(IPEndPoint endpoint, ushort selfNode, byte[] key, CancellationToken cancel)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            timeout.CancelAfter(HandshakeTimeout);
            try
            {
                await socket.ConnectAsync(endpoint, timeout.Token).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                throw new LinkException($"cannot connect to {endpoint}: {e.Message}", e);
            }
            var client = Hello(selfNode);
            await socket.SendAsync(client, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            var reply = await ReceiveExactly(socket, HelloSize + MacSize, timeout.Token).ConfigureAwait(false);
            var server = reply.AsSpan(0, HelloSize).ToArray();
            var peer = CheckHello(server, endpoint.ToString());
            if (!CryptographicOperations.FixedTimeEquals(reply.AsSpan(HelloSize), Mac(key, "server", client, server)))
                throw new LinkException($"{endpoint} does not hold this cluster's key");
            await socket.SendAsync(Mac(key, "client", client, server), SocketFlags.None, timeout.Token).ConfigureAwait(false);
            return new NodeLink(socket, peer);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            socket.Dispose();
            throw new LinkException($"{endpoint} did not complete the handshake within {HandshakeTimeout.TotalSeconds:F0} s");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Runs the server side of the handshake on an accepted socket.</summary>
    public static async Task<NodeLink> AcceptAsync(Socket socket, ushort selfNode, byte[] key, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(socket);
        socket.NoDelay = true;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(HandshakeTimeout);
        var from = socket.RemoteEndPoint?.ToString() ?? "a peer";
        try
        {
            var client = await ReceiveExactly(socket, HelloSize, timeout.Token).ConfigureAwait(false);
            var peer = CheckHello(client, from);
            var server = Hello(selfNode);
            await socket.SendAsync((byte[])[.. server, .. Mac(key, "server", client, server)], SocketFlags.None, timeout.Token)
                .ConfigureAwait(false);
            var proof = await ReceiveExactly(socket, MacSize, timeout.Token).ConfigureAwait(false);
            if (!CryptographicOperations.FixedTimeEquals(proof, Mac(key, "client", client, server)))
                throw new LinkException($"{from} does not hold this cluster's key");
            return new NodeLink(socket, peer);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            throw new LinkException($"{from} did not complete the handshake within {HandshakeTimeout.TotalSeconds:F0} s");
        }
    }

    public async Task SendAsync(FrameType type, ReadOnlyMemory<byte> payload, CancellationToken cancel = default)
    {
        if (payload.Length > MaxPayload) throw new ArgumentException($"a frame carries at most {MaxPayload} bytes");
        var header = new byte[5];
        header[0] = (byte)type;
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(1), (uint)payload.Length);
        await _writeLock.WaitAsync(cancel).ConfigureAwait(false);
        try
        {
            await _stream.WriteAsync(header, cancel).ConfigureAwait(false);
            if (payload.Length > 0) await _stream.WriteAsync(payload, cancel).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new LinkException($"link to node {PeerNode} broke: {e.Message}", e);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>The next frame, or null when the other side closed the connection cleanly between frames.</summary>
    public async Task<Frame?> ReceiveAsync(CancellationToken cancel = default)
    {
        try
        {
            var first = await _stream.ReadAsync(_header.AsMemory(0, 1), cancel).ConfigureAwait(false);
            if (first == 0) return null;
            await _stream.ReadExactlyAsync(_header.AsMemory(1, 4), cancel).ConfigureAwait(false);
            var type = (FrameType)_header[0];
            if (!Enum.IsDefined(type)) throw new LinkException($"node {PeerNode} sent a frame of unknown type {_header[0]}");
            var length = BinaryPrimitives.ReadUInt32LittleEndian(_header.AsSpan(1));
            if (length > MaxPayload) throw new LinkException($"node {PeerNode} sent a frame of {length} bytes (at most {MaxPayload})");
            var payload = new byte[length];
            await _stream.ReadExactlyAsync(payload, cancel).ConfigureAwait(false);
            return new Frame(type, payload);
        }
        catch (EndOfStreamException e)
        {
            throw new LinkException($"link to node {PeerNode} closed in the middle of a frame", e);
        }
        catch (IOException e)
        {
            throw new LinkException($"link to node {PeerNode} broke: {e.Message}", e);
        }
    }

    /// <summary>Bytes outside the framing: only for tests that play a hostile peer.</summary>
    internal async Task WriteRawAsync(byte[] bytes, CancellationToken cancel) =>
        await _stream.WriteAsync(bytes, cancel).ConfigureAwait(false);

    public void Dispose()
    {
        _stream.Dispose();
        _writeLock.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private static byte[] Hello(ushort node)
    {
        var hello = new byte[HelloSize];
        Magic.CopyTo(hello);
        hello[4] = ProtocolVersion;
        BinaryPrimitives.WriteUInt16LittleEndian(hello.AsSpan(5), node);
        RandomNumberGenerator.Fill(hello.AsSpan(7));
        return hello;
    }

    private static ushort CheckHello(ReadOnlySpan<byte> hello, string from)
    {
        if (!hello[..4].SequenceEqual(Magic)) throw new LinkException($"{from} does not speak the openMosix node protocol");
        if (hello[4] != ProtocolVersion)
            throw new LinkException($"{from} speaks node protocol version {hello[4]}, this node {ProtocolVersion}");
        var node = BinaryPrimitives.ReadUInt16LittleEndian(hello[5..]);
        return node != 0 ? node : throw new LinkException($"{from} claims node id 0");
    }

    private static byte[] Mac(byte[] key, string role, byte[] client, byte[] server) =>
        HMACSHA256.HashData(key, (byte[])[.. System.Text.Encoding.ASCII.GetBytes(role), .. client, .. server]);

    private static async Task<byte[]> ReceiveExactly(Socket socket, int count, CancellationToken cancel)
    {
        var buffer = new byte[count];
        var filled = 0;
        while (filled < count)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancel).ConfigureAwait(false);
            if (n == 0) throw new LinkException("the peer hung up during the handshake");
            filled += n;
        }
        return buffer;
    }
}
