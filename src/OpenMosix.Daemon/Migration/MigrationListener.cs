using System.Net;
using System.Net.Sockets;

namespace OpenMosix.Daemon.Migration;

/// <summary>
/// Accepts node links from other omds (TLS over TCP, <c>migration.port</c>) and hands each to a guest session. A peer
/// that fails the handshake (its certificate, its node id, its address) is logged in one line and dropped; it never
/// reaches the session code.
/// </summary>
public sealed partial class MigrationListener(int port, Func<ushort> selfNode, LinkSecurity security,
    Func<NodeLink, CancellationToken, Task> serve, ILogger logger) : IDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

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
            sessions.RemoveAll(t => t.IsCompleted);
            sessions.Add(Task.Run(() => ServeOneAsync(socket, cancel), CancellationToken.None));
        }
        await Task.WhenAll(sessions).ConfigureAwait(false);
    }

    public void Dispose() => _listener.Dispose();

    private async Task ServeOneAsync(Socket socket, CancellationToken cancel)
    {
        NodeLink link;
        var peer = socket.RemoteEndPoint?.ToString() ?? "?";
        try
        {
            link = await NodeLink.AcceptAsync(socket, selfNode(), security, cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is LinkException or SocketException or IOException)
        {
            LogRejected(logger, peer, e.Message);
            socket.Dispose();
            return;
        }
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

    [LoggerMessage(Level = LogLevel.Information, Message = "migrations accepted on TCP {Address}:{Port}")]
    private static partial void LogListening(ILogger logger, string address, int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "node link from {Peer} refused: {Reason}")]
    private static partial void LogRejected(ILogger logger, string peer, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "link with node {Node} ended: {Reason}")]
    private static partial void LogSessionEnded(ILogger logger, int node, string reason);
}
