using System.Net.Sockets;
using OpenMosix.Cluster.Transport;

namespace OpenMosix.Cluster.Tests;

/// <summary>
/// The reader of an image on its own thread (FrameReader.ReceiveDirect) when its link is closed under it: NodeLink's
/// Dispose closes the stream first and lets the reading task go after, and a reader that took the socket in between
/// met the closed socket itself. It must fail as a link fails (LinkException), and say so to the link (the cut),
/// not throw ObjectDisposedException past LinkImageReadStream and home's relay, which catch link failures: that ended
/// home's relay of the process without ending its deputy or its entry.
/// </summary>
public sealed class FrameReaderDirectTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_reader_whose_stream_was_closed_under_it_fails_as_a_link_and_cuts_the_link()
    {
        using var listener = LinkSockets.Listen();
        using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await peer.ConnectAsync(listener.LocalEndPoint!, Cancel);
        var accepted = await listener.AcceptAsync(Cancel);
        var stream = new BufferedDuplexStream(new NetworkStream(accepted, ownsSocket: true), 256 * 1024);
        var cuts = new List<string>();
        var reader = new FrameReader(stream, opening: null, peer: 4, () => null, reason =>
        {
            lock (cuts) cuts.Add(reason);
        });
        reader.Start();
        var buffer = new byte[4096];
        // The reader takes the socket (nothing comes: it gives up between frames, the reading task parked for it).
        await Task.Factory.StartNew(() => Assert.Throws<TimeoutException>(() => reader.ReceiveDirect(buffer, out _, Environment.TickCount64 + 300)),
            Cancel, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        await using var peerStream = new NetworkStream(peer, ownsSocket: false);
        await new FrameWriter(peerStream, sealing: null).WriteAsync(FrameType.Image, new byte[] { 7, 8, 9 }, Cancel);

        var failure = await Task.Factory.StartNew(() =>
        {
            // Read off the socket by this reader itself, opened into its buffer.
            Assert.Equal(FrameType.Image, reader.ReceiveDirect(buffer, out var written, Environment.TickCount64 + 30_000)!.Value.Type);
            Assert.Equal(3, written);
            stream.Dispose();
            return Record.Exception(() => reader.ReceiveDirect(buffer, out _, Environment.TickCount64 + 30_000));
        }, Cancel, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        var error = Assert.IsType<LinkException>(failure);
        Assert.Equal("the link to node 4 was closed by this node", error.Message);
        lock (cuts) Assert.Equal([error.Message], cuts);
    }
}
