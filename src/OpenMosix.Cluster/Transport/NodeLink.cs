using System.Buffers;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

namespace OpenMosix.Cluster.Transport;

/// <summary>
/// A connection between two omds that authenticated each other with their node certificates in TLS 1.3
/// (<see cref="LinkSecurity"/>), carrying frames (<c>type u8 | length u32 | payload</c>, at most
/// <see cref="MaxPayload"/> bytes). After the TLS handshake the client sends, inside TLS, its hello (<see cref="LinkHello"/>:
/// the protocol versions it speaks, its node id, a fresh key share and the record ciphers it has), and the server answers
/// the same; each side refuses a peer whose claimed id is not the one its certificate names, or with which it has no
/// protocol version in common (<see cref="ProtocolRange"/>). The server chooses the first cipher of its own order
/// (omd.toml link.record_ciphers) that the client listed and answers with it alone; the client takes it (none in
/// common: the server answers its whole list and both refuse the link, saying so). From the
/// two shares both derive the keys of a record layer of their own (<see cref="LinkKeys"/>), which carries every frame
/// after that as one record under that cipher (AEGIS-128L where both ends have libsodium): the TLS session authenticated
/// the peer and hid the shares, and the records then cost little more than the AES itself. The client's first record
/// confirms the keys, and the server says nothing more before it (so no record is ever read as TLS). Nobody on the path
/// reads a process's memory or slips, replays or reorders a frame. Writes are serialised; frames are read all the time
/// (<see cref="FrameReader"/>) and taken by one consumer at a time. With <see cref="LinkLiveness"/> both ends send
/// heartbeats and a silent link is declared dead and closed (<see cref="LinkWatchdog"/>).
/// </summary>
public sealed class NodeLink : IAsyncDisposable, IDisposable
{
    public const int MaxPayload = 1 << 20;
    /// <summary>Bytes gathered for one read of the socket (frame headers and small frames come many to a read).</summary>
    private const int SocketBuffer = 256 * 1024;
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    private readonly Stream _stream;
    private readonly Socket _socket;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly FrameWriter _writer;
    private readonly FrameReader _reader;
    private readonly RecordDirection? _sealing, _opening;
    private readonly CancellationTokenSource _closing = new();
    private long _lastSent = Environment.TickCount64;
    private long _heartbeatsSent;
    private int _disposed;
    private string? _deadReason;

    /// <summary>A link whose frames go sealed by <paramref name="sealing"/> and opened by <paramref name="opening"/>
    /// (both null on a plain link); it reads nothing until <see cref="Start"/>.</summary>
    private NodeLink(Stream stream, Socket socket, ushort peer, IPAddress remote, LinkLiveness? liveness,
        RecordDirection? sealing, RecordDirection? opening, byte protocol, ProtocolRange peerVersions)
    {
        Protocol = protocol;
        PeerVersions = peerVersions;
        _stream = stream;
        _socket = socket;
        PeerNode = peer;
        RemoteAddress = remote;
        Liveness = liveness;
        (_sealing, _opening) = (sealing, opening);
        _writer = new FrameWriter(stream, sealing);
        // An image's reader that fails in the middle of a frame leaves a link no one can read on: it is declared dead.
        _reader = new FrameReader(stream, opening, peer, () => Volatile.Read(ref _deadReason), Abandon);
    }

    private NodeLink Start()
    {
        _reader.Start();
        if (Liveness is { } liveness)
            _ = Task.Run(() => LinkWatchdog.RunAsync(this, _reader, liveness, _closing.Token), CancellationToken.None);
        return this;
    }

    /// <summary>The other node's id: named by its certificate, claimed in its hello, and at its address in the map.</summary>
    public ushort PeerNode { get; }
    public IPAddress RemoteAddress { get; }

    /// <summary>The node protocol version both ends agreed on in their hellos (<see cref="ProtocolRange.Negotiate"/>).</summary>
    public byte Protocol { get; }

    /// <summary>The versions the other node said it speaks.</summary>
    public ProtocolRange PeerVersions { get; }

    /// <summary>The cipher of this link's records (<see cref="RecordCipher.None"/> on a plain link).</summary>
    public RecordCipher Cipher => _sealing?.Cipher ?? RecordCipher.None;

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
        BufferedDuplexStream? wire = null;
        SslStream? tls = null;
        NodeLink? link = null;
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
            wire = Wire(socket);
            tls = new SslStream(wire, leaveInnerStreamOpen: true);
            var check = security.Check(endpoint, peerNode);
            try
            {
                await tls.AuthenticateAsClientAsync(security.ClientOptions(check), timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is AuthenticationException or IOException)
            {
                throw new LinkException(check.Problem is { } problem ? $"link to {who} refused: {problem}" : $"TLS with {who} failed: {e.Message}", e);
            }
            var share = LinkKeys.NewShare();
            await LinkHello.SayAsync(tls, selfNode, share, security.Ciphers, security.Versions, timeout.Token).ConfigureAwait(false);
            // In TLS 1.3 the server judges our certificate after our side of the handshake is done: its refusal
            // shows here, as an alert or a hang-up instead of its hello; so does a node of version 6's refusal of
            // our lowest version (it answers no hello to a version byte not its own).
            var (claimed, peerShare, offered, versions) = await LinkHello.ReadAsync(tls, who, $"{who} refused this node's certificate or its protocol versions (its log says why)", timeout.Token).ConfigureAwait(false);
            if (claimed != peerNode) throw new LinkException($"link to {who} refused: it claims to be node {claimed}");
            security.VersionsHeard?.Invoke(peerNode, versions);
            var protocol = LinkHello.Agree(security.Versions, versions, $"link to {who} refused: it");
            var cipher = RecordCiphers.Choose(security.Ciphers, offered) is var common and not RecordCipher.None ? common
                : throw new LinkException($"link to {who} refused: {NoneInCommon(offered, RecordCiphers.Describe(security.CipherOrder))}");
            LeaveTls(ref tls);
            var (sealing, opening) = RecordKeys(share, peerShare, selfNode, peerNode, asClient: true, cipher);
            link = new NodeLink(wire, socket, peerNode, endpoint.Address, liveness, sealing, opening, protocol, versions);
            // The first record: it proves our keys to the server, and tells it TLS is over on this side.
            await link._writer.WriteAsync(FrameType.Heartbeat, ReadOnlyMemory<byte>.Empty, timeout.Token).ConfigureAwait(false);
            return link.Start();
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            Close(link, tls, wire, socket);
            throw new LinkException($"{who} did not complete the handshake within {HandshakeTimeout.TotalSeconds:F0} s");
        }
        catch (IOException e)
        {
            Close(link, tls, wire, socket);
            throw new LinkException($"link to {who} broke during the handshake: {e.Message}", e);
        }
        catch
        {
            Close(link, tls, wire, socket);
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
        SslStream? tls = new(wire, leaveInnerStreamOpen: true);
        NodeLink? link = null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(HandshakeTimeout);
        var check = security.Check(remote, expected: null);
        try
        {
            try
            {
                await tls.AuthenticateAsServerAsync(security.ServerOptions(check), timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is AuthenticationException or IOException)
            {
                throw new LinkException(check.Problem ?? $"TLS failed: {e.Message}", e);
            }
            var (claimed, peerShare, offered, versions) = await LinkHello.ReadAsync(tls, from, $"{from} hung up during the handshake", timeout.Token).ConfigureAwait(false);
            if (claimed != check.Node)
                throw new LinkException($"node {check.Node}: it claims to be node {claimed}");
            security.VersionsHeard?.Invoke(check.Node, versions);
            var share = LinkKeys.NewShare();
            // This end chooses, by its own order, and answers with its choice alone, which the client takes
            // (RecordCiphers.Choose). With none in common it answers its whole list, and it always answers with its
            // versions: the client then learns why from it, not from a hang-up.
            var cipher = RecordCiphers.Choose(security.CipherOrder, offered);
            await LinkHello.SayAsync(tls, selfNode, share, cipher is RecordCipher.None ? security.Ciphers : cipher, security.Versions,
                timeout.Token).ConfigureAwait(false);
            var protocol = LinkHello.Agree(security.Versions, versions, $"node {check.Node}");
            if (cipher is RecordCipher.None)
                throw new LinkException($"node {check.Node}: {NoneInCommon(offered, RecordCiphers.Describe(security.CipherOrder))}");
            LeaveTls(ref tls);
            var (sealing, opening) = RecordKeys(peerShare, share, check.Node, selfNode, asClient: false, cipher);
            link = new NodeLink(wire, socket, check.Node, remote.Address, liveness, sealing, opening, protocol, versions);
            var first = await link._reader.ReadFrameAsync(timeout.Token).ConfigureAwait(false);
            if (first?.Type != FrameType.Heartbeat)
                throw new LinkException($"node {check.Node} did not begin its records with a heartbeat");
            return link.Start();
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            Close(link, tls, wire, socket);
            throw new LinkException($"{from} did not complete the handshake within {HandshakeTimeout.TotalSeconds:F0} s");
        }
        catch (Exception e) when (e is IOException or EndOfStreamException)
        {
            Close(link, tls, wire, socket);
            throw new LinkException($"node {check.Node} broke off the handshake: {e.Message}", e);
        }
        catch
        {
            Close(link, tls, wire, socket);
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
    /// The next frame <paramref name="inline"/> did not take. While this waits with nothing queued, each frame read is
    /// first offered to <paramref name="inline"/> on the link's reading thread (true: taken, in order, and not
    /// returned): a relay's output is written where it goes without being handed to another thread, and a large
    /// record's from the buffer it was read and opened in. It must not wait for anything this link has yet to
    /// receive; the link reads nothing else meanwhile, and counts as not silent.
    /// </summary>
    public Task<Frame?> ReceiveAsync(FrameSink inline, CancellationToken cancel = default) => _reader.ReceiveAsync(cancel, inline);

    /// <summary>
    /// The next frame of an image, read on the caller's thread, which blocks until <paramref name="deadline"/>
    /// (<see cref="Environment.TickCount64"/>; <see cref="long.MaxValue"/>: none; then <see cref="TimeoutException"/>):
    /// this reader takes the socket over from the link's reading task until <see cref="EndImage"/> (or any other
    /// receive), and opens an Image frame whose payload fits into <paramref name="into"/> there (<paramref name="written"/>
    /// bytes; the frame's own payload is then empty). Null when the other side closed the link cleanly between frames.
    /// </summary>
    public Frame? ReceiveImage(Span<byte> into, out int written, long deadline) => _reader.ReceiveDirect(into, out written, deadline);

    /// <summary>The image read by <see cref="ReceiveImage"/> ended: the link's reading task reads on.</summary>
    public void EndImage() => _reader.EndDirect();

    /// <summary>
    /// From now on <see cref="FrameType.Pages"/> frames go to <paramref name="handler"/> as they are read (on the
    /// link's reading thread: it must not block), whoever consumes the other frames and in whatever phase; told once
    /// when the link ends, with why. A page a post-copied process waits for must not wait behind the control step
    /// the conversation is at. Without a handler a Pages frame is a protocol error.
    /// </summary>
    public void DivertPages(IPageFrames handler) => _reader.DivertPages(handler);

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
        // A reader that took the socket over fails on it; the link's reading task must see the end as well.
        _reader.EndDirect();
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
        try
        {
            await _writer.WriteAsync(type, payload, cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException)
        {
            throw new LinkException(Volatile.Read(ref _deadReason) ?? $"link to node {PeerNode} broke: {e.Message}", e);
        }
    }

    /// <summary>
    /// The same framing over a plain TCP socket, unauthenticated and in clear: only for bench/link, which measures
    /// what the secured link costs against it.
    /// </summary>
    internal static NodeLink Unsecured(Socket socket, ushort peer)
    {
        ArgumentNullException.ThrowIfNull(socket);
        socket.NoDelay = true;
        return new NodeLink(new NetworkStream(socket, ownsSocket: true), socket, peer, ((IPEndPoint)socket.RemoteEndPoint!).Address,
            liveness: null, sealing: null, opening: null, ProtocolRange.Latest, ProtocolRange.Current).Start();
    }

    /// <summary>Frames as a hostile peer holding the link's keys could write them (<see cref="FrameWriter.WriteAsPeerAsync"/>):
    /// only for tests and fuzzing.</summary>
    internal Task WriteAsPeerAsync(byte[] bytes, CancellationToken cancel) => _writer.WriteAsPeerAsync(bytes, cancel);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        // Closed by its owner: nothing to declare dead any more, and a send from now on says so.
        Interlocked.CompareExchange(ref _deadReason, $"the link to node {PeerNode} was closed by this node", null);
        _closing.Cancel();
        _stream.Dispose();
        _reader.EndDirect();
        // After the socket (RecordDirection.Dispose).
        _sealing?.Dispose();
        _opening?.Dispose();
        _writeLock.Dispose();
        _closing.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>The end of the one-line refusal each end gives when the two have no record cipher in common.</summary>
    private static string NoneInCommon(RecordCipher theirs, string ours) =>
        $"no record cipher in common (it offers {RecordCiphers.Describe(theirs)}; this node {ours})";

    /// <summary>
    /// Done with TLS: its session authenticated the peer and carried the shares, and from here on the socket carries
    /// records only. Disposing the SslStream frees its native state and writes nothing (no close_notify); it holds no
    /// bytes of ours either, since the peer sends no record before it has read our hello.
    /// </summary>
    private static void LeaveTls(ref SslStream? tls)
    {
        tls?.Dispose();
        tls = null;
    }

    /// <summary>The directions of the link's record layer (<see cref="LinkKeys.Derive"/>). In a build made by
    /// bench/migration/links.sh alone (OM_BENCH_PLAIN_RECORDS, never a product build) there are none: the frames go in
    /// clear after the same handshake, the floor a secured migration is measured against, and omd's log says so.</summary>
    private static (RecordDirection? Sealing, RecordDirection? Opening) RecordKeys(byte[] clientShare, byte[] serverShare,
        ushort clientNode, ushort serverNode, bool asClient, RecordCipher cipher)
    {
#if OM_BENCH_PLAIN_RECORDS
        if (Interlocked.Exchange(ref _plainRecordsSaid, 1) == 0)
            Console.Error.WriteLine("node links of this build (for bench/migration/links.sh only) carry their frames in clear after the TLS handshake");
        return (null, null);
#else
        return LinkKeys.Derive(clientShare, serverShare, clientNode, serverNode, asClient, cipher);
#endif
    }

#if OM_BENCH_PLAIN_RECORDS
    private static int _plainRecordsSaid;
#endif

    private static BufferedDuplexStream Wire(Socket socket) => new(new NetworkStream(socket, ownsSocket: true), SocketBuffer);

    private static void Close(NodeLink? link, SslStream? tls, Stream? wire, Socket socket)
    {
        tls?.Dispose();
        if (link is not null) link.Dispose();
        else if (wire is not null) wire.Dispose();
        else socket.Dispose();
    }
}
