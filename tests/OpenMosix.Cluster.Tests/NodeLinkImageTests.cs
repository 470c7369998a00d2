using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using OpenMosix.Cluster.Transport;
using OpenMosix.TestSupport;

namespace OpenMosix.Cluster.Tests;

/// <summary>
/// An image read by its consumer's own thread (<see cref="NodeLink.ReceiveImage"/>, issue #20): the link's reading
/// task hands the socket over between two frames and reads on after <see cref="NodeLink.EndImage"/>.
/// </summary>
public sealed class NodeLinkImageTests : IDisposable
{
    private static readonly IPAddress Here = IPAddress.Loopback;
    private readonly TestPki _pki = new();
    private readonly Socket _listener = LinkSockets.Listen();

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_image_read_on_its_readers_thread_arrives_whole_and_in_order_and_the_link_reads_on_after_it()
    {
        var (client, server) = await Link();
        await using var closeClient = client;
        await using var closeServer = server;
        var pages = new Pages();
        server.DivertPages(pages);
        var image = new byte[24 << 20];
        Random.Shared.NextBytes(image);
        // Frames of every size up to the largest, some larger than the reader's buffer (those come as a payload of
        // their own), with a relay's frame and a Pages frame among them, as a move's final image has.
        var cuts = new List<int>();
        for (var at = 0; at < image.Length;)
        {
            var length = Math.Min(image.Length - at, Random.Shared.Next(4) switch { 0 => NodeLink.MaxPayload, 1 => 1 + Random.Shared.Next(64), _ => 1 + Random.Shared.Next(NodeLink.MaxPayload) });
            cuts.Add(length);
            at += length;
        }
        var sending = Task.Run(async () =>
        {
            await client.SendAsync(FrameType.Control, new byte[] { 1 }, Cancel);
            var at = 0;
            for (var i = 0; i < cuts.Count; i++)
            {
                await client.SendAsync(FrameType.Image, image.AsMemory(at, cuts[i]), Cancel);
                at += cuts[i];
                if (i == cuts.Count / 2)
                {
                    await client.SendAsync(FrameType.Stdio, new byte[] { 7 }, Cancel);
                    await client.SendAsync(FrameType.Pages, new byte[] { 9 }, Cancel);
                }
            }
            await client.SendAsync(FrameType.ImageEnd, ReadOnlyMemory<byte>.Empty, Cancel);
            await client.SendAsync(FrameType.Control, new byte[] { 2 }, Cancel);
        }, Cancel);

        Assert.Equal(new byte[] { 1 }, (await server.ReceiveAsync(Cancel))!.Value.Payload);
        var (received, others, inPlace) = await Task.Factory.StartNew(() => ReadImage(server, 512 * 1024), Cancel,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
        // The link's own reading task gets the socket back: the word after the image comes through it.
        Assert.Equal(new byte[] { 2 }, (await server.ReceiveAsync(Cancel).WaitAsync(TimeSpan.FromSeconds(30), Cancel))!.Value.Payload);
        await sending;

        Assert.Equal(image, received);
        Assert.Equal(new[] { (FrameType.Stdio, (byte)7) }, others);
        Assert.Equal(new byte[] { 9 }, pages.Seen.Single());
        // Read on this thread: frames that fit were opened into the reader's buffer (none are, through the queue).
        Assert.InRange(inPlace, 1, cuts.Count);
    }

    [Fact]
    public async Task A_reader_the_peer_sends_nothing_gives_up_at_its_deadline_and_the_link_reads_on()
    {
        var (client, server) = await Link();
        await using var closeClient = client;
        await using var closeServer = server;
        var buffer = new byte[4096];
        var waited = System.Diagnostics.Stopwatch.StartNew();
        Assert.Throws<TimeoutException>(() => server.ReceiveImage(buffer, out _, Environment.TickCount64 + 300));
        Assert.InRange(waited.ElapsedMilliseconds, 250, 20_000);
        server.EndImage();
        await client.SendAsync(FrameType.Control, new byte[] { 3 }, Cancel);
        Assert.Equal(new byte[] { 3 }, (await server.ReceiveAsync(Cancel).WaitAsync(TimeSpan.FromSeconds(30), Cancel))!.Value.Payload);
    }

    [Fact]
    public async Task A_link_closed_between_two_frames_of_an_image_ends_its_reader_cleanly()
    {
        var (client, server) = await Link();
        await using var closeServer = server;
        await client.SendAsync(FrameType.Image, new byte[] { 5, 6 }, Cancel);
        var buffer = new byte[4096];
        var first = await Task.Factory.StartNew(() => (server.ReceiveImage(buffer, out var n, Environment.TickCount64 + 30_000), n),
            Cancel, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.Equal(FrameType.Image, first.Item1!.Value.Type);
        client.Dispose();
        var end = await Task.Factory.StartNew(() => server.ReceiveImage(buffer, out _, Environment.TickCount64 + 30_000),
            Cancel, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.Null(end);
    }

    /// <summary>
    /// A reader that stops in the middle of a frame (part of it came, then nothing until its deadline; or a frame of no
    /// known type) leaves a link no one can read on. It is declared dead at once: its peer sees it close and its page
    /// handler hears of it (a post-copy's final image is read so). Before, the reading task stayed parked and the link
    /// counted as never silent, so nothing told anyone until its owner received again or closed it.
    /// </summary>
    [Theory]
    [InlineData("part", "sent part of a frame")]
    [InlineData("unknown", "unknown type 99")]
    public async Task A_reader_stopped_in_the_middle_of_a_frame_ends_the_link_for_its_peer_and_its_page_handler(string fault, string reason)
    {
        var (client, server) = await Link();
        await using var closeClient = client;
        await using var closeServer = server;
        var pages = new Pages();
        server.DivertPages(pages);
        var buffer = new byte[4096];
        // The reader takes the socket (nothing comes: it gives up between frames, the reading task parked for it).
        await Task.Factory.StartNew(() => Assert.Throws<TimeoutException>(() => server.ReceiveImage(buffer, out _, Environment.TickCount64 + 300)),
            Cancel, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        // The header of a 1000-byte Image frame and ten bytes of it, and nothing more; or a whole record of type 99.
        byte[] bad = fault == "part" ? [2, 0xe8, 0x03, 0, 0, .. new byte[10]] : [99, 0, 0, 0, 0];
        await client.WriteAsPeerAsync(bad, Cancel);
        var failure = await Task.Factory.StartNew(() => Record.Exception(() => server.ReceiveImage(buffer, out _, Environment.TickCount64 + 1000)),
            Cancel, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        Assert.IsType(fault == "part" ? typeof(TimeoutException) : typeof(LinkException), failure);
        var peerSaw = await Record.ExceptionAsync(() => client.ReceiveAsync(Cancel).WaitAsync(TimeSpan.FromSeconds(30), Cancel));
        Assert.True(peerSaw is null or LinkException, $"the peer did not see the link end: {peerSaw}");
        Poll.Until(() => pages.Ended is not null, TimeSpan.FromSeconds(30), "the page handler to hear the link's end");
        Assert.Contains(reason, pages.Ended, StringComparison.Ordinal);
        Assert.Contains(reason, Assert.Throws<LinkException>(() => server.ReceiveImage(buffer, out _, Environment.TickCount64 + 500)).Message,
            StringComparison.Ordinal);
    }

    /// <summary>
    /// A relay's large record opened in place and taken on the reading thread (FrameSink), an image handed over to its
    /// reader's thread, and another large record taken so: back to back on one secured link, every byte where it
    /// belongs and in order. The first record's kept buffer is the one the image's reader then reads into, and the
    /// reading task opens the last one in it again after the image.
    /// </summary>
    [Fact]
    public async Task A_relayed_large_record_an_image_and_another_record_back_to_back_each_arrive_whole()
    {
        var (client, server) = await Link();
        await using var closeClient = client;
        await using var closeServer = server;
        byte[] Bytes(int length, int seed)
        {
            var bytes = new byte[length];
            new Random(seed).NextBytes(bytes);
            bytes[0] = 1; // the descriptor, as a Stdio frame carries it
            return bytes;
        }
        var before = Bytes(NodeLink.MaxPayload, 1);
        var after = Bytes(300 * 1024, 2);
        var image = Bytes(5 * NodeLink.MaxPayload + 12345, 3);
        var relayed = new List<byte[]>();
        bool Sink(FrameType type, ReadOnlySpan<byte> payload)
        {
            if (type != FrameType.Stdio) return false;
            relayed.Add(payload.ToArray());
            return true;
        }
        // Each record is sent once the server waits with its sink (a record read before that is queued, not sunk).
        var sinkWaits = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstAnswer = server.ReceiveAsync(Sink, Cancel);
        var sending = Task.Run(async () =>
        {
            await client.SendAsync(FrameType.Stdio, before, Cancel);
            await client.SendAsync(FrameType.Control, new byte[] { 1 }, Cancel);
            for (var at = 0; at < image.Length; at += NodeLink.MaxPayload)
                await client.SendAsync(FrameType.Image, image.AsMemory(at, Math.Min(NodeLink.MaxPayload, image.Length - at)), Cancel);
            await client.SendAsync(FrameType.ImageEnd, ReadOnlyMemory<byte>.Empty, Cancel);
            await sinkWaits.Task;
            await client.SendAsync(FrameType.Stdio, after, Cancel);
            await client.SendAsync(FrameType.Control, new byte[] { 2 }, Cancel);
        }, Cancel);

        Assert.Equal(new byte[] { 1 }, (await firstAnswer.WaitAsync(TimeSpan.FromSeconds(30), Cancel))!.Value.Payload);
        var (received, others, _) = await Task.Factory.StartNew(() => ReadImage(server, 256 * 1024), Cancel,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var secondAnswer = server.ReceiveAsync(Sink, Cancel);
        sinkWaits.SetResult();
        Assert.Equal(new byte[] { 2 }, (await secondAnswer.WaitAsync(TimeSpan.FromSeconds(30), Cancel))!.Value.Payload);
        await sending;

        Assert.Equal(image, received);
        Assert.Empty(others);
        Assert.Equal(2, relayed.Count);
        Assert.Equal(before, relayed[0]);
        Assert.Equal(after, relayed[1]);
    }

    /// <summary>Reads until ImageEnd, as LinkImageReadStream does: the image's bytes, the other frames met, and how
    /// many Image frames were opened into the buffer.</summary>
    private static (byte[] Image, List<(FrameType, byte)> Others, int InPlace) ReadImage(NodeLink link, int bufferBytes)
    {
        var image = new MemoryStream();
        var others = new List<(FrameType, byte)>();
        var buffer = new byte[bufferBytes];
        var inPlace = 0;
        while (true)
        {
            var frame = link.ReceiveImage(buffer, out var written, Environment.TickCount64 + 30_000) ?? throw new InvalidOperationException("the link ended");
            if (written > 0)
            {
                image.Write(buffer, 0, written);
                inPlace++;
                continue;
            }
            switch (frame.Type)
            {
                case FrameType.Image:
                    image.Write(frame.Payload);
                    break;
                case FrameType.ImageEnd:
                    link.EndImage();
                    return (image.ToArray(), others, inPlace);
                default:
                    others.Add((frame.Type, frame.Payload[0]));
                    break;
            }
        }
    }

    private sealed class Pages : IPageFrames
    {
        private string? _ended;
        public ConcurrentQueue<byte[]> Seen { get; } = new();
        public string? Ended => Volatile.Read(ref _ended);
        public void Arrived(Frame frame) => Seen.Enqueue(frame.Payload.ToArray());
        public void LinkEnded(string reason) => Volatile.Write(ref _ended, reason);
    }

    private async Task<(NodeLink Client, NodeLink Server)> Link()
    {
        var serverSide = LinkSockets.AcceptOne(_listener, 7, _pki.Links(7, Here, _ => Here));
        var client = await NodeLink.ConnectAsync((IPEndPoint)_listener.LocalEndPoint!, 3, 7, _pki.Links(3, Here, _ => Here), Cancel);
        return (client, await serverSide);
    }

    public void Dispose()
    {
        _listener.Dispose();
        _pki.Dispose();
    }
}
