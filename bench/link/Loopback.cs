using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using OpenMosix.Cluster.Transport;

/// <summary>Both ends in this process over loopback: they share the machine's cores, as two lab nodes do.</summary>
internal static class Loopback
{
    public static async Task<LinkRun> RunAsync(LinkSecurity home, LinkSecurity target, bool secure, int mib, int frameKiB)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var endpoint = (IPEndPoint)listener.LocalEndPoint!;
        var accepted = Task.Run(async () =>
        {
            var socket = await listener.AcceptAsync();
            return secure ? await NodeLink.AcceptAsync(socket, 2, target, CancellationToken.None) : NodeLink.Unsecured(socket, 1);
        });
        NodeLink sender;
        if (secure) sender = await NodeLink.ConnectAsync(endpoint, 1, 2, home, CancellationToken.None);
        else
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(endpoint);
            sender = NodeLink.Unsecured(socket, 2);
        }
        await using var _ = sender;
        await using var receiver = await accepted;

        var payload = Frames.Payload(frameKiB);
        var frames = Frames.Count(mib, frameKiB);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var receiving = Task.Run(() => Frames.ReceiveAsync(receiver, frames));
        await Frames.SendAsync(sender, payload, frames);
        Frames.Check(await receiving, frames, payload.Length);
        var seconds = clock.Elapsed.TotalSeconds;
        var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        return new LinkRun(secure, seconds, cpuSeconds, cpuSeconds);
    }
}

/// <summary>The transfer itself, the same for both modes.</summary>
internal static class Frames
{
    public static byte[] Payload(int frameKiB)
    {
        var payload = new byte[frameKiB * 1024];
        Random.Shared.NextBytes(payload);
        return payload;
    }

    public static long Count(int mib, int frameKiB) => (long)mib * 1024 / frameKiB;

    public static async Task SendAsync(NodeLink link, byte[] payload, long frames)
    {
        for (var i = 0; i < frames; i++) await link.SendAsync(FrameType.Image, payload);
    }

    public static async Task<long> ReceiveAsync(NodeLink link, long frames)
    {
        long bytes = 0;
        for (var i = 0; i < frames; i++)
            bytes += ((await link.ReceiveAsync()) ?? throw new InvalidOperationException($"link closed after {i} of {frames} frames")).Payload.Length;
        return bytes;
    }

    public static void Check(long received, long frames, int frameBytes)
    {
        if (received != frames * frameBytes) throw new InvalidOperationException($"received {received} bytes of {frames * frameBytes}");
    }
}
