using System.Net;
using System.Net.Sockets;
using OpenMosix.Cluster.Transport;
using OpenMosix.Daemon.Migration;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Integration;

/// <summary>omd's link port holds a bounded number of unauthenticated handshakes, and idle ones never keep a real peer out.</summary>
public sealed class LinkHandshakeBoundTests
{
    private const int MigrationPort = 5725;

    [Fact]
    public async Task A_flood_of_idle_connections_to_the_link_port_does_not_keep_a_real_handshake_out()
    {
        using var cluster = new LoopbackCluster(2);
        cluster.Start(1);
        var endpoint = new IPEndPoint(cluster.Address(1), MigrationPort);
        var idle = new List<Socket>();
        try
        {
            for (var i = 0; i < 4 * MigrationListener.MaxHandshakes; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                idle.Add(socket);
                await socket.ConnectAsync(endpoint, TestContext.Current.CancellationToken);
            }
            // Those past the bound gave way as the next ones came, long before any handshake could time out.
            Poll.Until(() => idle.Count(Closed) >= idle.Count - MigrationListener.MaxHandshakes, MigrationListener.HandshakeTimeout,
                $"omd to hold at most {MigrationListener.MaxHandshakes} idle connections");

            // Links authenticate with the keyring's oldest secret, as omd reads it at start.
            var ring = OpenMosix.Cluster.Keys.KeyringText.Parse(await File.ReadAllBytesAsync(cluster.KeyPath, TestContext.Current.CancellationToken));
            await using var link = await NodeLink.ConnectAsync(endpoint, 2, ring.Secrets[0].Secret.ToArray(), TestContext.Current.CancellationToken);

            Assert.Equal(1, link.PeerNode);
        }
        finally
        {
            foreach (var socket in idle) socket.Dispose();
        }
    }

    /// <summary>The other end has closed it (end of stream or reset).</summary>
    private static bool Closed(Socket socket)
    {
        try
        {
            return socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0;
        }
        catch (SocketException)
        {
            return true;
        }
    }
}
