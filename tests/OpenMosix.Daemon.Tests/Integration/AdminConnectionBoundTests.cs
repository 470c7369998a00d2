using System.Net.Sockets;
using System.Text;
using OpenMosix.Daemon.Admin;

namespace OpenMosix.Daemon.Tests.Integration;

/// <summary>The admin socket serves a bounded number of connections at once; the rest wait, unharmed, for a slot.</summary>
public sealed class AdminConnectionBoundTests
{
    [Fact]
    public void A_request_past_the_connection_bound_waits_until_a_held_connection_ends_and_is_then_answered()
    {
        using var cluster = new LoopbackCluster(1);
        cluster.Start(1);
        var held = Enumerable.Range(0, AdminServer.MaxConnections).Select(_ => Connect(cluster.SocketPath(1))).ToList();
        try
        {
            using var waiting = Connect(cluster.SocketPath(1));
            waiting.Send(Encoding.ASCII.GetBytes("GET /v1/health HTTP/1.1\r\nHost: omd\r\n\r\n"));
            waiting.ReceiveTimeout = 1000;
            var reply = new byte[4096];
            var unanswered = Assert.Throws<SocketException>(() => waiting.Receive(reply));
            Assert.Equal(SocketError.TimedOut, unanswered.SocketErrorCode);

            held[0].Dispose();
            waiting.ReceiveTimeout = 10_000;
            var n = waiting.Receive(reply);
            Assert.StartsWith("HTTP/1.1 200 OK", Encoding.ASCII.GetString(reply, 0, n), StringComparison.Ordinal);
        }
        finally
        {
            foreach (var socket in held) socket.Dispose();
        }
    }

    private static Socket Connect(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(path));
        return socket;
    }
}
