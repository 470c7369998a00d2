using System.Net;
using OpenMosix.Cluster.Transport;
using OpenMosix.TestSupport;

namespace OpenMosix.Cluster.Tests;

/// <summary>What someone on the path between two linked nodes can do to the records after the TLS handshake: nothing but
/// break the link. A relay (<see cref="WireTap"/>) between node 3 and node 7 alters or repeats what node 3 sends.</summary>
public sealed class LinkRecordTests : IDisposable
{
    private static readonly IPAddress Here = IPAddress.Loopback;
    private readonly TestPki _pki = new();
    private readonly System.Net.Sockets.Socket _listener = LinkSockets.Listen();

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_frame_altered_on_the_wire_breaks_the_link_with_a_reason_instead_of_arriving()
    {
        await using var link = await Link();
        var (tap, client, server) = link;
        tap.FlipByteAt(tap.Seen.Length + FrameWriter.HeaderSize + 100);
        await client.SendAsync(FrameType.Image, new byte[4096], Cancel);
        var error = await Assert.ThrowsAsync<LinkException>(() => server.ReceiveAsync(Cancel));
        Assert.Equal("record 1 from node 3 failed authentication (altered, replayed, reordered or not sealed for this link)", error.Message);
    }

    [Fact]
    public async Task A_frame_replayed_on_the_wire_breaks_the_link_after_the_genuine_one()
    {
        await using var link = await Link();
        var (tap, client, server) = link;
        var before = tap.Seen.Length;
        await client.SendAsync(FrameType.Control, "{\"kind\":\"signal\",\"signal\":9}"u8.ToArray(), Cancel);
        Assert.Equal(FrameType.Control, (await server.ReceiveAsync(Cancel))!.Value.Type);
        await tap.InjectAsync(tap.Seen[before..]);
        var error = await Assert.ThrowsAsync<LinkException>(() => server.ReceiveAsync(Cancel));
        Assert.StartsWith("record 2 from node 3 failed authentication", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Frames_after_the_handshake_are_not_TLS_records_but_travel_sealed_both_ways()
    {
        await using var link = await Link();
        var (tap, client, server) = link;
        var before = tap.Seen.Length;
        var payload = "stdout of a guest"u8.ToArray();
        await client.SendAsync(FrameType.Stdio, payload, Cancel);
        await server.SendAsync(FrameType.Stdio, payload, Cancel);
        Assert.Equal(payload, (await server.ReceiveAsync(Cancel))!.Value.Payload);
        Assert.Equal(payload, (await client.ReceiveAsync(Cancel))!.Value.Payload);
        var record = tap.Seen[before..];
        Assert.Equal(FrameWriter.HeaderSize + payload.Length + RecordDirection.TagSize, record.Length);
        Assert.Equal((byte)FrameType.Stdio, record[0]);
        Assert.Equal(-1, record.AsSpan().IndexOf(payload));
    }

    public void Dispose()
    {
        _listener.Dispose();
        _pki.Dispose();
    }

    /// <summary>Node 3 dials node 7 through a tap; once both ends are up, the tap has seen all of node 3's handshake.</summary>
    private async Task<TappedLink> Link()
    {
        var tap = new WireTap((IPEndPoint)_listener.LocalEndPoint!);
        var serverSide = LinkSockets.AcceptOne(_listener, 7, _pki.Links(7, Here, _ => Here));
        var client = await NodeLink.ConnectAsync(tap.Endpoint, 3, 7, _pki.Links(3, Here, _ => Here), Cancel);
        return new TappedLink(tap, client, await serverSide);
    }

    private sealed record TappedLink(WireTap Tap, NodeLink Client, NodeLink Server) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            await Server.DisposeAsync();
            Tap.Dispose();
        }
    }
}
