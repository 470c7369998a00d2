using System.Net;
using System.Net.Sockets;
using OpenMosix.Cluster.Transport;

namespace OpenMosix.Cluster.Tests;

public sealed class NodeLinkTests
{
    private static readonly byte[] Key = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];

    [Fact]
    public async Task Two_nodes_with_the_key_learn_each_others_id_and_exchange_frames_both_ways()
    {
        using var listener = Listen();
        var serverSide = AcceptOne(listener, 7, Key);
        await using var client = await NodeLink.ConnectAsync(Endpoint(listener), 3, Key, TestContext.Current.CancellationToken);
        await using var server = await serverSide;
        Assert.Equal((7, 3), (client.PeerNode, server.PeerNode));

        var big = new byte[NodeLink.MaxPayload];
        Random.Shared.NextBytes(big);
        await client.SendAsync(FrameType.Control, "{\"kind\":\"offer\"}"u8.ToArray(), TestContext.Current.CancellationToken);
        await client.SendAsync(FrameType.Image, big, TestContext.Current.CancellationToken);
        await server.SendAsync(FrameType.Stdio, new byte[] { 1, (byte)'x' }, TestContext.Current.CancellationToken);

        var control = await server.ReceiveAsync(TestContext.Current.CancellationToken);
        var image = await server.ReceiveAsync(TestContext.Current.CancellationToken);
        var stdio = await client.ReceiveAsync(TestContext.Current.CancellationToken);
        Assert.Equal(FrameType.Control, control!.Value.Type);
        Assert.Equal(big, image!.Value.Payload);
        Assert.Equal(new byte[] { 1, (byte)'x' }, stdio!.Value.Payload);
    }

    [Fact]
    public async Task A_client_without_the_key_is_refused_and_a_server_without_it_is_not_trusted()
    {
        using var listener = Listen();
        var serverSide = AcceptOne(listener, 7, Key);
        var wrong = new byte[32];
        var error = await Assert.ThrowsAsync<LinkException>(() => NodeLink.ConnectAsync(Endpoint(listener), 3, wrong, TestContext.Current.CancellationToken));
        Assert.Contains("does not hold this cluster's key", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAnyAsync<Exception>(() => serverSide);

        using var impostor = Listen();
        var impostorSide = AcceptOne(impostor, 9, wrong);
        var refused = await Assert.ThrowsAsync<LinkException>(() => NodeLink.ConnectAsync(Endpoint(impostor), 3, Key, TestContext.Current.CancellationToken));
        Assert.Contains("does not hold this cluster's key", refused.Message, StringComparison.Ordinal);
        await Assert.ThrowsAnyAsync<Exception>(() => impostorSide);
    }

    [Fact]
    public async Task Garbage_instead_of_a_hello_is_refused()
    {
        using var listener = Listen();
        var serverSide = AcceptOne(listener, 7, Key);
        using var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await raw.ConnectAsync(Endpoint(listener), TestContext.Current.CancellationToken);
        await raw.SendAsync(new byte[23], TestContext.Current.CancellationToken);
        var error = await Assert.ThrowsAsync<LinkException>(() => serverSide);
        Assert.Contains("does not speak the openMosix node protocol", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_oversized_unknown_or_truncated_frame_breaks_the_link_with_a_reason()
    {
        foreach (var (header, expected) in new (byte[], string)[]
                 {
                     ([2, 0, 0, 0x20, 0], "at most"),
                     ([99, 1, 0, 0, 0], "unknown type 99"),
                     ([2, 10, 0, 0, 0, 1, 2], "in the middle of a frame"),
                 })
        {
            using var listener = Listen();
            var serverSide = AcceptOne(listener, 7, Key);
            var client = await NodeLink.ConnectAsync(Endpoint(listener), 3, Key, TestContext.Current.CancellationToken);
            await using var server = await serverSide;
            await RawWrite(client, header);
            var error = await Assert.ThrowsAsync<LinkException>(() => server.ReceiveAsync(TestContext.Current.CancellationToken));
            Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_link_closed_between_frames_ends_cleanly()
    {
        using var listener = Listen();
        var serverSide = AcceptOne(listener, 7, Key);
        var client = await NodeLink.ConnectAsync(Endpoint(listener), 3, Key, TestContext.Current.CancellationToken);
        await using var server = await serverSide;
        await client.SendAsync(FrameType.Control, new byte[] { 1 }, TestContext.Current.CancellationToken);
        client.Dispose();
        Assert.NotNull(await server.ReceiveAsync(TestContext.Current.CancellationToken));
        Assert.Null(await server.ReceiveAsync(TestContext.Current.CancellationToken));
    }

    // A peer that breaks the framing after a good handshake: raw bytes, then it hangs up.
    private static async Task RawWrite(NodeLink link, byte[] bytes)
    {
        await link.WriteRawAsync(bytes, TestContext.Current.CancellationToken);
        link.Dispose();
    }

    private static Socket Listen()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Listen(4);
        return socket;
    }

    private static IPEndPoint Endpoint(Socket listener) => (IPEndPoint)listener.LocalEndPoint!;

    private static async Task<NodeLink> AcceptOne(Socket listener, ushort self, byte[] key)
    {
        var socket = await listener.AcceptAsync(TestContext.Current.CancellationToken);
        try
        {
            return await NodeLink.AcceptAsync(socket, self, key, TestContext.Current.CancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
