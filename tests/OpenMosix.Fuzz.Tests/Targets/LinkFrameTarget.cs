using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using OpenMosix.Cluster.Transport;
using OpenMosix.Daemon.Migration.Protocol;
using OpenMosix.Fuzz.Tests.Engine;
using OpenMosix.TestSupport;

namespace OpenMosix.Fuzz.Tests.Targets;

/// <summary>
/// A node link on loopback: after a real (TLS, test CA) handshake the peer writes the input as a peer holding the link's keys
/// could (whole frames sealed as records, the rest raw) and closes; this side reads frames until the end, each Control frame
/// parsed as a migration message. Refusal: <see cref="LinkException"/>.
/// </summary>
public sealed class LinkFrameTarget : FuzzTarget
{
    private static readonly TestPki Pki = new();
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public LinkFrameTarget()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(4);
    }

    public override string Name => "link";
    public override IReadOnlyList<Type> Refusals { get; } = [typeof(LinkException)];

    public override IEnumerable<(string Name, byte[] Data)> Seeds()
    {
        var offer = MessageWire.Encode(MessageTarget.Samples().First());
        yield return ("migration.bin",
        [
            .. Frame(FrameType.Control, offer),
            .. Frame(FrameType.Control, MessageWire.Encode(new Final())),
            .. Frame(FrameType.Image, [.. Enumerable.Range(0, 300).Select(i => (byte)i)]),
            .. Frame(FrameType.ImageEnd, []),
            .. Frame(FrameType.Stdio, [1, .. "hello\n"u8]),
            .. Frame(FrameType.StdioEnd, [1]),
            .. Frame(FrameType.Control, MessageWire.Encode(new Exited(0, 0))),
        ]);
        yield return ("empty.bin", []);
    }

    public static byte[] Frame(FrameType type, byte[] payload)
    {
        var frame = new byte[5 + payload.Length];
        frame[0] = (byte)type;
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(frame.AsSpan(5));
        return frame;
    }

    public override bool Run(byte[] input) => RunAsync(input).GetAwaiter().GetResult();

    private async Task<bool> RunAsync(byte[] input)
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var accepted = AcceptAsync(stop.Token);
        await using var peer = await NodeLink.ConnectAsync((IPEndPoint)_listener.LocalEndPoint!, 1, 2, Pki.Links(1, IPAddress.Loopback, _ => IPAddress.Loopback), stop.Token);
        var link = await accepted;
        var writing = WriteAndCloseAsync(peer, input, stop.Token);
        try
        {
            while (await link.ReceiveAsync(stop.Token) is { } frame)
                if (frame.Type == FrameType.Control) MessageWire.Parse(frame, link.PeerNode, MessageTarget.Kinds);
            return true;
        }
        finally
        {
            await link.DisposeAsync();
            await writing;
        }
    }

    private async Task<NodeLink> AcceptAsync(CancellationToken cancel)
    {
        var socket = await _listener.AcceptAsync(cancel);
        return await NodeLink.AcceptAsync(socket, 2, Pki.Links(2, IPAddress.Loopback, _ => IPAddress.Loopback), cancel);
    }

    /// <summary>The peer's side: it may find the link closed under it once this side has refused a frame.</summary>
    private static async Task WriteAndCloseAsync(NodeLink peer, byte[] input, CancellationToken cancel)
    {
        try
        {
            await peer.WriteAsPeerAsync(input, cancel);
        }
        catch (IOException)
        {
        }
        await peer.DisposeAsync();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _listener.Dispose();
    }
}
