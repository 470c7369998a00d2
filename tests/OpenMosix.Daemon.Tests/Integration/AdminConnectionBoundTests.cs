using System.Net.Sockets;
using System.Text;
using OpenMosix.Daemon.Admin;

namespace OpenMosix.Daemon.Tests.Integration;

/// <summary>
/// The admin socket holds a bounded number of connections: clients that connect and stall give way to real requests
/// and are dropped after <see cref="AdminServer.ReadTimeout"/>; oversize requests are refused with their status.
/// </summary>
public sealed class AdminConnectionBoundTests
{
    private const string Health = "GET /v1/health HTTP/1.1\r\nHost: omd\r\n\r\n";

    [Fact]
    public void Clients_stalling_in_every_slot_and_more_do_not_keep_a_real_request_from_being_answered_at_once()
    {
        using var cluster = new LoopbackCluster(1);
        cluster.Start(1);
        var stalled = Enumerable.Range(0, 2 * AdminServer.MaxConnections)
            .Select(_ => Connect(cluster.SocketPath(1), "GET /v1/hea")).ToList();
        try
        {
            using var real = Connect(cluster.SocketPath(1), Health);
            // Well before the stalled clients time out: the answer comes because they gave way.
            real.ReceiveTimeout = (int)(AdminServer.ReadTimeout / 2).TotalMilliseconds;
            Assert.StartsWith("HTTP/1.1 200 OK", Answer(real), StringComparison.Ordinal);
        }
        finally
        {
            foreach (var socket in stalled) socket.Dispose();
        }
    }

    [Fact]
    public void A_client_that_sends_half_a_request_and_stalls_is_dropped_without_an_answer()
    {
        using var cluster = new LoopbackCluster(1);
        cluster.Start(1);
        using var stalled = Connect(cluster.SocketPath(1), "GET /v1/health HTTP/1.1\r\n");
        stalled.ReceiveTimeout = (int)(AdminServer.ReadTimeout + TimeSpan.FromSeconds(20)).TotalMilliseconds;

        Assert.Equal("", Answer(stalled));
        using var next = Connect(cluster.SocketPath(1), Health);
        next.ReceiveTimeout = 30_000;
        Assert.StartsWith("HTTP/1.1 200 OK", Answer(next), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a body over 1 MiB", "PUT /v1/speed HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n", "413 Content Too Large")]
    [InlineData("a head over 16 KiB", null, "431 Request Header Fields Too Large")]
    public void An_oversize_request_is_refused_with_its_status(string what, string? request, string status)
    {
        using var cluster = new LoopbackCluster(1);
        cluster.Start(1);
        request ??= $"GET /v1/health HTTP/1.1\r\nX-Filler: {new string('x', 17 * 1024)}\r\n\r\n";
        using var client = Connect(cluster.SocketPath(1), request);
        client.ReceiveTimeout = 30_000;

        Assert.True(Answer(client).StartsWith($"HTTP/1.1 {status}", StringComparison.Ordinal), what);
    }

    private static Socket Connect(string path, string send)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        // Bounded: a server that stopped accepting would leave connect waiting in a full backlog for ever.
        // (a blocking connect waits for room in the backlog, where a non-blocking one fails with EAGAIN).
        if (!Task.Run(() => socket.Connect(new UnixDomainSocketEndPoint(path))).Wait(TimeSpan.FromSeconds(30)))
            throw new TimeoutException($"omd did not take a connection on {path} within 30 s");
        socket.Send(Encoding.ASCII.GetBytes(send));
        return socket;
    }

    /// <summary>Everything the server sends until it closes ("" when it closes without answering). A server that
    /// closes with part of the request unread resets the connection, after its answer if it sent one, or at once
    /// when it drops a client (seen in CI: a dropped client's read ended in ECONNRESET, not end of stream).</summary>
    private static string Answer(Socket socket)
    {
        var answer = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int n;
            while ((n = socket.Receive(buffer)) > 0) answer.Write(buffer, 0, n);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
        }
        return Encoding.ASCII.GetString(answer.ToArray());
    }
}
