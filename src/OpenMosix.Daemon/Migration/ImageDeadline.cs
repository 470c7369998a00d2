namespace OpenMosix.Daemon.Migration;

/// <summary>
/// Image frames are read and written by blocking threads, the tracer thread among them (a checkpoint streams into
/// the link, a restore reads from it), so one stalled image would hold every other checkpoint and restore of the
/// node. Each frame therefore gets the link's timeout: one that does not arrive, or cannot be sent, within it ends
/// the link (an image cut in the middle cannot be resumed), which fails the checkpoint or restore and frees the thread.
/// The process being moved runs on where it was.
/// </summary>
internal static class ImageDeadline
{
    /// <summary>The next frame of an image, read on this thread (<see cref="NodeLink.ReceiveImage"/>): an Image frame
    /// that fits is opened into <paramref name="into"/> (<paramref name="written"/> bytes).</summary>
    public static Frame? Receive(NodeLink link, Span<byte> into, out int written)
    {
        if (link.Liveness?.Timeout is not { } timeout) return link.ReceiveImage(into, out written, long.MaxValue);
        try
        {
            return link.ReceiveImage(into, out written, Environment.TickCount64 + (long)timeout.TotalMilliseconds);
        }
        catch (TimeoutException)
        {
            throw Stalled(link, $"no image data came from node {link.PeerNode} for {Seconds(timeout)} s");
        }
    }

    public static void Send(NodeLink link, FrameType type, ReadOnlyMemory<byte> payload)
    {
        if (link.Liveness?.Timeout is not { } timeout)
        {
            link.SendAsync(type, payload).GetAwaiter().GetResult();
            return;
        }
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            link.SendAsync(type, payload, deadline.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw Stalled(link, $"node {link.PeerNode} took no image data for {Seconds(timeout)} s");
        }
    }

    private static LinkException Stalled(NodeLink link, string reason)
    {
        link.Abandon(reason);
        return new LinkException(reason);
    }

    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
}
