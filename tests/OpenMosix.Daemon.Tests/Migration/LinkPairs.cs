using System.Net;
using System.Net.Sockets;
using OpenMosix.Cluster.Transport;
using OpenMosix.TestSupport;

namespace OpenMosix.Daemon.Tests.Migration;

/// <summary>
/// Node links on loopback: a connected pair, or a listener that takes one link as the other node. Nodes 1 and 2 are
/// both at 127.0.0.1, with certificates of one test CA.
/// </summary>
internal static class LinkPairs
{
    private static readonly TestPki Pki = new();
    private static readonly Func<ushort, IPAddress?> Map = _ => IPAddress.Loopback;

    /// <summary>How node <paramref name="node"/> authenticates its links.</summary>
    public static LinkSecurity Security(ushort node) => Pki.Links(node, IPAddress.Loopback, Map);

    /// <summary>Node 1 (home) connected to node 2 (guest).</summary>
    public static async Task<(NodeLink Home, NodeLink Guest)> ConnectAsync(LinkLiveness? liveness = null)
    {
        using var listener = Listen();
        var accepted = AcceptAsync(listener, 2, liveness);
        var home = await NodeLink.ConnectAsync(Endpoint(listener), 1, 2, Security(1), TestContext.Current.CancellationToken, liveness);
        return (home, await accepted);
    }

    public static Socket Listen()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Listen(4);
        return socket;
    }

    public static IPEndPoint Endpoint(Socket listener) => (IPEndPoint)listener.LocalEndPoint!;

    public static async Task<NodeLink> AcceptAsync(Socket listener, ushort self, LinkLiveness? liveness = null)
    {
        var socket = await listener.AcceptAsync(TestContext.Current.CancellationToken);
        return await NodeLink.AcceptAsync(socket, self, Security(self), TestContext.Current.CancellationToken, liveness);
    }
}
