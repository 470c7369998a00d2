using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using OpenMosix.Cluster.Transport;
using OpenMosix.TestSupport;

namespace OpenMosix.Cluster.Tests;

/// <summary>
/// Heartbeats and the link timeout over real TLS links on loopback: node 3 dials node 7. Times are short (a heartbeat
/// every 100 ms, dead after 1 s) so that "dead within the bound" and "alive well past the timeout" take seconds, and
/// long enough that a test machine busy with other tests does not miss ten heartbeats in a row.
/// </summary>
public sealed class LinkLivenessTests : IDisposable
{
    private static readonly IPAddress Here = IPAddress.Loopback;
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);
    /// <summary>Detection takes the timeout and a tick; the rest is for a loaded test machine.</summary>
    private static readonly TimeSpan Bound = Timeout + TimeSpan.FromSeconds(3);
    private readonly TestPki _pki = new();
    private readonly Socket _listener = LinkSockets.Listen();
    private readonly ConcurrentQueue<(ushort Node, string Reason)> _deaths = new();

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_peer_that_sends_nothing_is_declared_dead_within_the_timeout_and_says_so_once()
    {
        var (silent, watching) = await Pair(clientLiveness: null, serverLiveness: Watched());
        await using var _ = silent;
        await using var __ = watching;
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<LinkException>(() => watching.ReceiveAsync(Cancel));

        Assert.True(clock.Elapsed < Bound, $"declared dead after {clock.Elapsed.TotalSeconds:F1} s");
        Assert.StartsWith("node 3 sent nothing for 1.", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("(link timeout 1.0 s)", error.Message, StringComparison.Ordinal);
        Assert.Equal([(3, error.Message)], _deaths.ToArray());
        var send = await Assert.ThrowsAsync<LinkException>(() => watching.SendAsync(FrameType.Control, new byte[] { 1 }, Cancel));
        Assert.Equal(error.Message, send.Message);
    }

    [Fact]
    public async Task Two_ends_with_nothing_to_say_stay_alive_on_heartbeats_well_past_the_timeout()
    {
        var (client, server) = await Pair(Watched(), Watched());
        await using var _ = client;
        await using var __ = server;

        await Task.Delay(Timeout * 3, Cancel);

        Assert.Empty(_deaths);
        await client.SendAsync(FrameType.Control, new byte[] { 42 }, Cancel);
        var frame = await server.ReceiveAsync(Cancel);
        Assert.Equal((FrameType.Control, (byte)42), (frame!.Value.Type, frame.Value.Payload[0]));
    }

    [Fact]
    public async Task A_consumer_that_reads_nothing_for_longer_than_the_timeout_keeps_its_link_and_gets_every_frame_in_order()
    {
        var (sender, reader) = await Pair(Watched(), Watched());
        await using var _ = sender;
        await using var __ = reader;
        const int Frames = 256;
        // 64 MiB: far more than the reader's queue and both sockets' buffers hold, so the sender waits too.
        var sending = Task.Run(async () =>
        {
            for (var i = 0; i < Frames; i++) await sender.SendAsync(FrameType.Image, Numbered(i, 256 << 10), Cancel);
        }, Cancel);

        await Task.Delay(Timeout * 3, Cancel);

        Assert.False(sending.IsCompleted, "the sender was held back by the reader");
        for (var i = 0; i < Frames; i++)
        {
            var frame = (await reader.ReceiveAsync(Cancel))!.Value;
            Assert.Equal((FrameType.Image, i), (frame.Type, BinaryPrimitives.ReadInt32LittleEndian(frame.Payload)));
        }
        await sending;
        Assert.Empty(_deaths);
    }

    [Fact]
    public async Task A_peer_the_failure_detector_holds_dead_is_dropped_long_before_the_timeout_once_it_is_silent()
    {
        var verdict = Watched(timeout: TimeSpan.FromMinutes(5)) with { DeclaredDead = node => node == 3 };
        var (silent, watching) = await Pair(clientLiveness: null, serverLiveness: verdict);
        await using var _ = silent;
        await using var __ = watching;
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<LinkException>(() => watching.ReceiveAsync(Cancel));

        Assert.True(clock.Elapsed < Bound, $"declared dead after {clock.Elapsed.TotalSeconds:F1} s");
        Assert.StartsWith("the failure detector holds node 3 dead and it sent nothing for", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_peer_the_failure_detector_holds_dead_whose_heartbeats_arrive_stays_linked()
    {
        // Heartbeats twice a second: only a second without any (three missed) would take the verdict.
        var verdict = new LinkLiveness(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(5))
        {
            DeclaredDead = _ => true,
            Died = (node, reason) => _deaths.Enqueue((node, reason)),
        };
        var (client, server) = await Pair(Watched(timeout: TimeSpan.FromSeconds(5)), verdict);
        await using var _ = client;
        await using var __ = server;

        await Task.Delay(Timeout * 3, Cancel);

        Assert.Empty(_deaths);
        await client.SendAsync(FrameType.Control, new byte[] { 7 }, Cancel);
        Assert.NotNull(await server.ReceiveAsync(Cancel));
    }

    [Fact]
    public async Task Abandoning_a_link_fails_a_send_that_waits_for_a_peer_that_does_not_read()
    {
        var (sender, stuck) = await Pair(clientLiveness: null, serverLiveness: null);
        await using var _ = sender;
        await using var __ = stuck;
        var sent = 0;
        var sending = Task.Run(async () =>
        {
            for (var i = 0; ; i++)
            {
                await sender.SendAsync(FrameType.Image, Numbered(i, 1 << 20), Cancel);
                Interlocked.Increment(ref sent);
            }
        }, Cancel);
        // Blocked once the peer's queue and both sockets are full: the count stops growing. Should it still be
        // growing, the next send fails all the same.
        var (count, since) = (-1, Stopwatch.StartNew());
        Poll.Until(() =>
        {
            if (Volatile.Read(ref sent) != count) (count, since) = (Volatile.Read(ref sent), Stopwatch.StartNew());
            return count > 0 && since.Elapsed > TimeSpan.FromMilliseconds(300);
        }, TimeSpan.FromSeconds(30), "the sender to block");

        sender.Abandon("the image stalled");

        var error = await Assert.ThrowsAsync<LinkException>(() => sending);
        Assert.Equal("the image stalled", error.Message);
    }

    public void Dispose()
    {
        _listener.Dispose();
        _pki.Dispose();
    }

    private LinkLiveness Watched(TimeSpan? timeout = null) =>
        new(Interval, timeout ?? Timeout) { Died = (node, reason) => _deaths.Enqueue((node, reason)) };

    private async Task<(NodeLink Client, NodeLink Server)> Pair(LinkLiveness? clientLiveness, LinkLiveness? serverLiveness)
    {
        var serverSide = AcceptAsync(serverLiveness);
        var client = await NodeLink.ConnectAsync((IPEndPoint)_listener.LocalEndPoint!, 3, 7, _pki.Links(3, Here, _ => Here), Cancel,
            clientLiveness);
        return (client, await serverSide);
    }

    private async Task<NodeLink> AcceptAsync(LinkLiveness? liveness)
    {
        var socket = await _listener.AcceptAsync(Cancel);
        return await NodeLink.AcceptAsync(socket, 7, _pki.Links(7, Here, _ => Here), Cancel, liveness);
    }

    private static byte[] Numbered(int number, int size)
    {
        var payload = new byte[size];
        BinaryPrimitives.WriteInt32LittleEndian(payload, number);
        return payload;
    }
}
