using System.Net;
using System.Net.Sockets;

namespace OpenMosix.Daemon.Migration;

/// <summary>
/// Accepts node links from other omds (TLS over TCP, <c>migration.port</c>) and hands each to a guest session. A peer
/// that fails the handshake (its certificate, its node id, its address) is logged in one line and dropped; it never
/// reaches the session code. Handshakes are bounded: at most <see cref="MaxHandshakes"/> at once, each within
/// <see cref="HandshakeTimeout"/>; past the bound the oldest handshake gives way to the new connection
/// (<see cref="Hosting.ConnectionSlots"/>), so a flood of idle connections costs omd sixteen sockets and never keeps a
/// real peer, which completes its handshake in a round trip, out.
/// </summary>
public sealed partial class MigrationListener(int port, Func<ushort> selfNode, LinkSecurity security,
    Func<NodeLink, CancellationToken, Task> serve, ILogger logger) : IDisposable
{
    /// <summary>Handshakes in progress at once: connections whose peer has not yet proved it belongs to the cluster.</summary>
    public const int MaxHandshakes = 16;

    /// <summary>How long a peer has to complete its handshake (a few messages that cross a LAN in milliseconds).</summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(3);

    private static readonly TimeSpan GaveWayLogInterval = TimeSpan.FromSeconds(10);

    /// <summary>Heartbeats and timeout of accepted links ([liveness]); null: none.</summary>
    public LinkLiveness? Liveness { get; init; }

    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly Hosting.ConnectionSlots _handshakes = new(MaxHandshakes);
    private long _gaveWayLogged;
    private DateTime _gaveWayLoggedAt;

    public void Bind(IPAddress address)
    {
        try
        {
            _listener.Bind(new IPEndPoint(address, port));
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AddressNotAvailable)
        {
            throw new Hosting.DaemonStartException($"cannot listen for migrations on TCP {address}:{port}: {e.Message} (migration.port)", e);
        }
        _listener.Listen(16);
        LogListening(logger, address.ToString(), port);
    }

    public async Task RunAsync(CancellationToken cancel)
    {
        var sessions = new List<Task>();
        while (!cancel.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(cancel).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            var handshake = _handshakes.Admit(HandshakeTimeout, cancel);
            LogGivingWay();
            sessions.RemoveAll(t => t.IsCompleted);
            sessions.Add(Task.Run(() => ServeOneAsync(socket, handshake, cancel), CancellationToken.None));
        }
        await Task.WhenAll(sessions).ConfigureAwait(false);
    }

    public void Dispose() => _listener.Dispose();

    private async Task ServeOneAsync(Socket socket, Hosting.ConnectionSlots.Slot handshake, CancellationToken cancel)
    {
        NodeLink link;
        var peer = socket.RemoteEndPoint?.ToString() ?? "?";
        using (handshake)
        {
            try
            {
                link = await NodeLink.AcceptAsync(socket, selfNode(), security, handshake.Token, Liveness).ConfigureAwait(false);
            }
            catch (Exception e) when (e is LinkException or SocketException or IOException or OperationCanceledException)
            {
                // Too slow, or gave way: one debug line each (a flood is summed up by LogGivingWay).
                if (e is OperationCanceledException)
                {
                    if (!cancel.IsCancellationRequested) LogHandshakeCut(logger, peer, HandshakeTimeout.TotalSeconds);
                }
                else
                {
                    LogRejected(logger, peer, e.Message);
                }
                socket.Dispose();
                return;
            }
        }
        LinkLog.WhenOlder(logger, link, "from");
        await using (link)
        {
            try
            {
                await serve(link, cancel).ConfigureAwait(false);
            }
            catch (Exception e) when (e is LinkException or IOException or OperationCanceledException)
            {
                LogSessionEnded(logger, link.PeerNode, e.Message);
            }
        }
    }

    /// <summary>One line per burst of handshakes that gave way, not one per connection of a flood.</summary>
    private void LogGivingWay()
    {
        var gaveWay = _handshakes.GaveWay;
        if (gaveWay == _gaveWayLogged || DateTime.UtcNow - _gaveWayLoggedAt < GaveWayLogInterval) return;
        LogGaveWay(logger, gaveWay - _gaveWayLogged, MaxHandshakes);
        (_gaveWayLogged, _gaveWayLoggedAt) = (gaveWay, DateTime.UtcNow);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "node link from {Peer} cut: no handshake within {Seconds} s, or it gave way to newer connections")]
    private static partial void LogHandshakeCut(ILogger logger, string peer, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} node link connections dropped unauthenticated: more than {Max} handshakes at once")]
    private static partial void LogGaveWay(ILogger logger, long count, int max);

    [LoggerMessage(Level = LogLevel.Information, Message = "migrations accepted on TCP {Address}:{Port}")]
    private static partial void LogListening(ILogger logger, string address, int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "node link from {Peer} refused: {Reason}")]
    private static partial void LogRejected(ILogger logger, string peer, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "link with node {Node} ended: {Reason}")]
    private static partial void LogSessionEnded(ILogger logger, int node, string reason);
}
