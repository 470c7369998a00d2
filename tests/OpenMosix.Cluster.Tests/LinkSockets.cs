using System.Net;
using System.Net.Sockets;
using OpenMosix.Cluster.Transport;

namespace OpenMosix.Cluster.Tests;

/// <summary>The listening end of node links in tests.</summary>
internal static class LinkSockets
{
    public static Socket Listen()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Listen(4);
        return socket;
    }

    public static async Task<NodeLink> AcceptOne(Socket listener, ushort self, LinkSecurity security)
    {
        var socket = await listener.AcceptAsync(TestContext.Current.CancellationToken);
        return await NodeLink.AcceptAsync(socket, self, security, TestContext.Current.CancellationToken);
    }
}

/// <summary>A TCP relay that keeps every byte the client sends: what someone on the path would capture. It can also
/// alter one byte the client sends, or slip bytes of its own to the server: what someone on the path could do.</summary>
internal sealed class WireTap : IDisposable
{
    private readonly Socket _listener = LinkSockets.Listen();
    private readonly MemoryStream _seen = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<Socket> _server = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _flipAt = -1;

    public WireTap(IPEndPoint target) => _ = RelayAsync(target);

    public IPEndPoint Endpoint => (IPEndPoint)_listener.LocalEndPoint!;

    public byte[] Seen
    {
        get
        {
            lock (_seen) return _seen.ToArray();
        }
    }

    /// <summary>The client's byte at this offset of its stream (counted from its first) will reach the server with a bit flipped.</summary>
    public void FlipByteAt(long offset) => Interlocked.Exchange(ref _flipAt, offset);

    /// <summary>Sends <paramref name="bytes"/> to the server as if the client had (while the client sends nothing).</summary>
    public async Task InjectAsync(byte[] bytes)
    {
        var server = await _server.Task;
        await server.SendAsync(bytes, _stop.Token);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        _stop.Dispose();
    }

    private async Task RelayAsync(IPEndPoint target)
    {
        using var client = await _listener.AcceptAsync(_stop.Token);
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await server.ConnectAsync(target, _stop.Token);
        _server.SetResult(server);
        await Task.WhenAny(Pump(client, server, record: true), Pump(server, client, record: false));
    }

    private async Task Pump(Socket from, Socket to, bool record)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int n;
            while ((n = await from.ReceiveAsync(buffer, _stop.Token)) > 0)
            {
                if (record)
                {
                    lock (_seen)
                    {
                        var flip = Interlocked.Read(ref _flipAt) - _seen.Length;
                        _seen.Write(buffer, 0, n);
                        if (flip >= 0 && flip < n) buffer[flip] ^= 0x01;
                    }
                }
                await to.SendAsync(buffer.AsMemory(0, n), _stop.Token);
            }
            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The test is over, or one side hung up.
        }
    }
}
