using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

namespace OpenMosix.Cluster.Transport;

/// <summary>
/// A TLS 1.3 connection between two omds that authenticated each other with their node certificates
/// (<see cref="LinkSecurity"/>), carrying frames (<c>type u8 | length u32 | payload</c>, at most
/// <see cref="MaxPayload"/> bytes). After the TLS handshake the client sends "OMNL", the protocol version and its
/// node id, and the server answers the same; each side refuses a peer whose claimed id is not the one its
/// certificate names. Everything after the TCP handshake is encrypted and authenticated by TLS, so nobody on the path
/// reads a process's memory or slips a frame in. Writes are serialised; frames are read all the time
/// (<see cref="FrameReader"/>) and taken by one consumer at a time. With <see cref="LinkLiveness"/> both ends send
/// heartbeats and a silent link is declared dead and closed (<see cref="LinkWatchdog"/>).
/// </summary>
public sealed class NodeLink : IAsyncDisposable, IDisposable
{
    public const int MaxPayload = 1 << 20;
    /// <summary>3: heartbeat frames (an end of version 2 would take one for a protocol error).</summary>
    public const byte ProtocolVersion = 3;
    private const int HelloSize = 4 + 1 + 2, HeaderSize = 5;
    /// <summary>Smaller frames go out as one TLS record with their header; larger ones are not copied for it.</summary>
    private const int CoalesceBelow = 16 * 1024;
    /// <summary>Bytes of TLS records gathered for one read or write of the socket.</summary>
    private const int SocketBuffer = 256 * 1024;
    private static ReadOnlySpan<byte> Magic => "OMNL"u8;
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    private readonly Stream _stream;
    private readonly Socket _socket;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly byte[] _sendHeader = new byte[HeaderSize];
    private readonly FrameReader _reader;
    private readonly CancellationTokenSource _closing = new();
    private long _lastSent = Environment.TickCount64;
    private long _heartbeatsSent;
    private int _disposed;
    private string? _deadReason;

    private NodeLink(Stream stream, Socket socket, ushort peer, IPAddress remote, LinkLiveness? liveness)
    {
        _stream = stream;
        _socket = socket;
        PeerNode = peer;
        RemoteAddress = remote;
        Liveness = liveness;
        _reader = new FrameReader(stream, peer, () => Volatile.Read(ref _deadReason));
        if (liveness is not null)
            _ = Task.Run(() => LinkWatchdog.RunAsync(this, _reader, liveness, _closing.Token), CancellationToken.None);
    }

    /// <summary>The other node's id: named by its certificate, claimed in its hello, and at its address in the map.</summary>
    public ushort PeerNode { get; }
    public IPAddress RemoteAddress { get; }

    /// <summary>The heartbeats and timeout this link keeps, or null for none.</summary>
    public LinkLiveness? Liveness { get; }

    /// <summary>Heartbeats this end has sent so far.</summary>
    public long HeartbeatsSent => Interlocked.Read(ref _heartbeatsSent);

    /// <summary>Whether the peer went silent (three heartbeats missed) rather than closed the link: a partition or a
    /// dead node, not a process that died on a node that is up.</summary>
    public bool WentSilent => Liveness is { } liveness && Silence >= liveness.HeartbeatInterval * LinkLiveness.MinimumIntervalsPerTimeout;

    /// <summary>How long the peer has sent nothing (zero while this end is not reading what it sent). A restart
    /// after a partition waits until the peer, hearing as little, has surely given up its own end.</summary>
    public TimeSpan Silence => TimeSpan.FromMilliseconds(_reader.SilentFor(Environment.TickCount64));

    /// <summary>When this end last began to send a frame (<see cref="Environment.TickCount64"/>).</summary>
    internal long LastSent => Volatile.Read(ref _lastSent);

    /// <summary>Connects to node <paramref name="peerNode"/> at <paramref name="endpoint"/>; refused unless it proves to be that node.</summary>
    public static async Task<NodeLink> ConnectAsync(IPEndPoint endpoint, ushort selfNode, ushort peerNode, LinkSecurity security,
        CancellationToken cancel, LinkLiveness? liveness = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(security);
        var who = $"node {peerNode} at {endpoint}";
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        SslStream? tls = null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(HandshakeTimeout);
        try
        {
            try
            {
                if (security.LocalAddress() is { } local) socket.Bind(new IPEndPoint(local, 0));
                await socket.ConnectAsync(endpoint, timeout.Token).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                throw new LinkException($"cannot connect to {who}: {e.Message}", e);
            }
            var wire = Wire(socket);
            tls = new SslStream(wire);
            var check = security.Check(endpoint, peerNode);
            try
            {
                await tls.AuthenticateAsClientAsync(security.ClientOptions(check), timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is AuthenticationException or IOException)
            {
                throw new LinkException(check.Problem is { } problem ? $"link to {who} refused: {problem}" : $"TLS with {who} failed: {e.Message}", e);
            }
            await SayHello(tls, wire, selfNode, timeout.Token).ConfigureAwait(false);
            // In TLS 1.3 the server judges our certificate after our side of the handshake is done: its refusal
            // shows here, as an alert or a hang-up instead of its hello.
            var claimed = await ReadHello(tls, who, $"{who} refused this node's certificate (its log says why)", timeout.Token).ConfigureAwait(false);
            if (claimed != peerNode) throw new LinkException($"link to {who} refused: it claims to be node {claimed}");
            return new NodeLink(tls, socket, peerNode, endpoint.Address, liveness);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            Close(tls, socket);
            throw new LinkException($"{who} did not complete the handshake within {HandshakeTimeout.TotalSeconds:F0} s");
        }
        catch
        {
            Close(tls, socket);
            throw;
        }
    }

    /// <summary>Runs the server side of the handshake on an accepted socket (which the link then owns, or which is closed).</summary>
    public static async Task<NodeLink> AcceptAsync(Socket socket, ushort selfNode, LinkSecurity security, CancellationToken cancel,
        LinkLiveness? liveness = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(security);
        socket.NoDelay = true;
        var remote = (IPEndPoint)socket.RemoteEndPoint!;
        var from = remote.ToString();
        var wire = Wire(socket);
        var tls = new SslStream(wire);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(HandshakeTimeout);
        try
        {
            var check = security.Check(remote, expected: null);
            try
            {
                await tls.AuthenticateAsServerAsync(security.ServerOptions(check), timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is AuthenticationException or IOException)
            {
                throw new LinkException(check.Problem ?? $"TLS failed: {e.Message}", e);
            }
            var claimed = await ReadHello(tls, from, $"{from} hung up during the handshake", timeout.Token).ConfigureAwait(false);
            if (claimed != check.Node)
                throw new LinkException($"node {check.Node}: it claims to be node {claimed}");
            await SayHello(tls, wire, selfNode, timeout.Token).ConfigureAwait(false);
            return new NodeLink(tls, socket, check.Node, remote.Address, liveness);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw new LinkException($"{from} did not complete the handshake within {HandshakeTimeout.TotalSeconds:F0} s");
        }
        catch
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async Task SendAsync(FrameType type, ReadOnlyMemory<byte> payload, CancellationToken cancel = default)
    {
        if (payload.Length > MaxPayload) throw new ArgumentException($"a frame carries at most {MaxPayload} bytes");
        if (Volatile.Read(ref _deadReason) is { } dead) throw new LinkException(dead);
        await _writeLock.WaitAsync(cancel).ConfigureAwait(false);
        try
        {
            await WriteFrameAsync(type, payload, cancel).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>The next frame, or null when the other side closed the connection cleanly between frames.</summary>
    public Task<Frame?> ReceiveAsync(CancellationToken cancel = default) => _reader.ReceiveAsync(cancel);

    /// <summary>
    /// Declares the link dead (its peer silent, its node dead, an image stalled) and closes it: every send and receive
    /// in progress or to come fails with <paramref name="reason"/>. The first reason stays; later calls do nothing.
    /// </summary>
    public void Abandon(string reason)
    {
        if (Interlocked.CompareExchange(ref _deadReason, reason, null) is not null) return;
        Liveness?.Died?.Invoke(PeerNode, reason);
        try
        {
            _closing.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Disposed meanwhile: nothing is watching.
        }
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Closed already.
        }
        _socket.Dispose();
    }

    /// <summary>A heartbeat, unless a frame is being sent (which says as much) or the link is dead.</summary>
    internal void TrySendHeartbeat()
    {
        try
        {
            if (Volatile.Read(ref _deadReason) is not null || !_writeLock.Wait(0)) return;
        }
        catch (ObjectDisposedException)
        {
            return;
        }
        _ = HeartbeatAsync();
    }

    private async Task HeartbeatAsync()
    {
        try
        {
            await WriteFrameAsync(FrameType.Heartbeat, ReadOnlyMemory<byte>.Empty, CancellationToken.None).ConfigureAwait(false);
            Interlocked.Increment(ref _heartbeatsSent);
        }
        catch (LinkException)
        {
            // The reader and the watchdog find out what became of the link.
        }
        finally
        {
            try
            {
                _writeLock.Release();
            }
            catch (ObjectDisposedException)
            {
                // Closed meanwhile.
            }
        }
    }

    /// <summary>One frame, under the write lock.</summary>
    private async Task WriteFrameAsync(FrameType type, ReadOnlyMemory<byte> payload, CancellationToken cancel)
    {
        Volatile.Write(ref _lastSent, Environment.TickCount64);
        byte[]? joined = null;
        try
        {
            if (payload.Length < CoalesceBelow)
            {
                joined = ArrayPool<byte>.Shared.Rent(HeaderSize + payload.Length);
                WriteHeader(joined, type, payload.Length);
                payload.Span.CopyTo(joined.AsSpan(HeaderSize));
                await _stream.WriteAsync(joined.AsMemory(0, HeaderSize + payload.Length), cancel).ConfigureAwait(false);
            }
            else
            {
                WriteHeader(_sendHeader, type, payload.Length);
                await _stream.WriteAsync(_sendHeader, cancel).ConfigureAwait(false);
                await _stream.WriteAsync(payload, cancel).ConfigureAwait(false);
            }
            await _stream.FlushAsync(cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException)
        {
            throw new LinkException(Volatile.Read(ref _deadReason) ?? $"link to node {PeerNode} broke: {e.Message}", e);
        }
        finally
        {
            if (joined is not null) ArrayPool<byte>.Shared.Return(joined);
        }
    }

    /// <summary>
    /// The same framing over a plain TCP socket, unauthenticated and in clear: only for bench/link, which measures
    /// what TLS costs against it.
    /// </summary>
    internal static NodeLink Unsecured(Socket socket, ushort peer)
    {
        ArgumentNullException.ThrowIfNull(socket);
        socket.NoDelay = true;
        return new NodeLink(new NetworkStream(socket, ownsSocket: true), socket, peer, ((IPEndPoint)socket.RemoteEndPoint!).Address, liveness: null);
    }

    /// <summary>Bytes outside the framing: only for tests that play a hostile peer.</summary>
    internal async Task WriteRawAsync(byte[] bytes, CancellationToken cancel)
    {
        await _stream.WriteAsync(bytes, cancel).ConfigureAwait(false);
        await _stream.FlushAsync(cancel).ConfigureAwait(false);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        // Closed by its owner: nothing to declare dead any more, and a send from now on says so.
        Interlocked.CompareExchange(ref _deadReason, $"the link to node {PeerNode} was closed by this node", null);
        _closing.Cancel();
        _stream.Dispose();
        _writeLock.Dispose();
        _closing.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private static void WriteHeader(byte[] header, FrameType type, int length)
    {
        header[0] = (byte)type;
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(1), (uint)length);
    }

    /// <summary>The first message after the handshake, and from it on writes are batched (and flushed per frame).</summary>
    private static async Task SayHello(SslStream tls, BufferedDuplexStream wire, ushort node, CancellationToken cancel)
    {
        wire.BufferWrites = true;
        await tls.WriteAsync(Hello(node), cancel).ConfigureAwait(false);
        await tls.FlushAsync(cancel).ConfigureAwait(false);
    }

    private static byte[] Hello(ushort node)
    {
        var hello = new byte[HelloSize];
        Magic.CopyTo(hello);
        hello[4] = ProtocolVersion;
        BinaryPrimitives.WriteUInt16LittleEndian(hello.AsSpan(5), node);
        return hello;
    }

    private static async Task<ushort> ReadHello(SslStream tls, string from, string hungUp, CancellationToken cancel)
    {
        var hello = new byte[HelloSize];
        try
        {
            await tls.ReadExactlyAsync(hello, cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or AuthenticationException)
        {
            throw new LinkException(hungUp, e);
        }
        if (!hello.AsSpan(0, 4).SequenceEqual(Magic)) throw new LinkException($"{from} does not speak the openMosix node protocol");
        if (hello[4] != ProtocolVersion)
            throw new LinkException($"{from} speaks node protocol version {hello[4]}, this node {ProtocolVersion}");
        return BinaryPrimitives.ReadUInt16LittleEndian(hello.AsSpan(5));
    }

    private static BufferedDuplexStream Wire(Socket socket) => new(new NetworkStream(socket, ownsSocket: true), SocketBuffer);

    private static void Close(SslStream? tls, Socket socket)
    {
        if (tls is not null) tls.Dispose();
        else socket.Dispose();
    }
}
