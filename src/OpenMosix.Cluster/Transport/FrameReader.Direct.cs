using System.Buffers;
using OpenMosix.Linux;

namespace OpenMosix.Cluster.Transport;

/// <summary>
/// An image's frames read by the thread that consumes them. Through the pump each frame cost a hop from .NET's epoll
/// thread to the thread pool for every read that found the socket empty, and another through the queue to the
/// blocked consumer (a fifth of the target omd's CPU in a whole move went to scheduling). So the consumer of an image
/// asks for the socket: the pump parks between two frames (its wait for the next frame's first byte is cancelled,
/// or it parks after the frame it was reading), and the consumer, once it has taken what was queued before, reads
/// the frames itself with <c>recv</c> and <c>poll</c> (<see cref="SocketWait"/>), an image frame's payload opened
/// straight into the consumer's buffer when it fits there (no copy out of the frame). Heartbeats are dropped and
/// Pages frames diverted here as the pump would. At the image's end, or when anyone else receives, the pump reads on.
/// </summary>
internal sealed partial class FrameReader
{
    private const int None = 0, Wanted = 1, Parked = 2;
    /// <summary>Queued by the pump when it parks, to wake a consumer waiting on the queue; every consumer skips it.</summary>
    private static readonly Frame ParkedMark = new(FrameType.Heartbeat, []);

    private int _handover;
    private CancellationTokenSource _between = new();
    private TaskCompletionSource? _resume;
    private volatile bool _directReading;

    /// <summary>
    /// The next frame for a consumer on its own thread that reads an image: blocking, until <paramref name="deadline"/>
    /// (<see cref="Environment.TickCount64"/>, <see cref="long.MaxValue"/> for none; then <see cref="TimeoutException"/>).
    /// An Image frame whose payload fits in <paramref name="into"/> is opened there: <paramref name="written"/> says
    /// how many bytes, and the frame returned has an empty payload. Null at a clean end of the link.
    /// </summary>
    public Frame? ReceiveDirect(Span<byte> into, out int written, long deadline)
    {
        written = 0;
        var socketEnded = false;
        while (true)
        {
            if (_frames.Reader.TryRead(out var queued))
            {
                if (queued.Type == FrameType.Heartbeat) continue;
                return queued;
            }
            var state = Volatile.Read(ref _handover);
            // Parked, the pump queues nothing more: what it queued before was taken above, in order.
            if (state == Parked && _stream is BufferedDuplexStream wire)
            {
                if (ReadDirect(wire, into, out written, deadline) is { } frame) return frame;
                // The link ended between frames: the pump reads that end again and tells it as always.
                socketEnded = true;
                EndDirect();
            }
            else if (state == None && _stream is BufferedDuplexStream && !_ended && !socketEnded
                     && Interlocked.CompareExchange(ref _handover, Wanted, None) == None)
            {
                Volatile.Read(ref _between).Cancel();
            }
            if (!WaitQueued(deadline)) return _failure is { } failure ? throw new LinkException(failure.Message, failure) : null;
        }
    }

    /// <summary>The pump reads again (the image ended, its reader gave up, or someone else receives).</summary>
    public void EndDirect()
    {
        if (Interlocked.Exchange(ref _handover, None) == Parked) Volatile.Read(ref _resume)?.TrySetResult();
    }

    /// <summary>A token cancelled when a consumer asks for the socket: a fresh one once the last was used.</summary>
    private CancellationToken BetweenFrames()
    {
        if (_between.IsCancellationRequested) Volatile.Write(ref _between, new CancellationTokenSource());
        var token = _between.Token;
        // Asked for before this token existed: the pump parks at once.
        if (Volatile.Read(ref _handover) == Wanted) _between.Cancel();
        return token;
    }

    private async Task ParkAsync()
    {
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _resume, resume);
        // Given up meanwhile (the image ended before its reader needed the socket): read on.
        if (Interlocked.CompareExchange(ref _handover, Parked, Wanted) != Wanted) return;
        await QueueAsync(ParkedMark).ConfigureAwait(false);
        await resume.Task.ConfigureAwait(false);
    }

    /// <summary>Waits until something is queued (true) or the queue is done (false).</summary>
    private bool WaitQueued(long deadline)
    {
        if (deadline == long.MaxValue) return _frames.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(Math.Max(0, deadline - Environment.TickCount64)));
        try
        {
            return _frames.Reader.WaitToReadAsync(timeout.Token).AsTask().GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException();
        }
    }

    /// <summary>The next frame from the socket, or null when it ended between frames. A failure in the middle of a
    /// frame (or of the socket) leaves a link no one can read on: it is cut (<see cref="Cut"/>), so that the link's
    /// reading task, its watchdog and its page handler hear its end, not only this reader.</summary>
    private Frame? ReadDirect(BufferedDuplexStream wire, Span<byte> into, out int written, long deadline)
    {
        written = 0;
        _directReading = true;
        // Listening from now: the time this consumer spent on the last frame is not the peer's silence.
        Heard();
        // From a frame's first byte to its end: a read that stops in between leaves the socket inside that frame.
        var inFrame = false;
        try
        {
            while (true)
            {
                inFrame = false;
                // After a large record another is likely: its header is read alone (see ReadFrameAsync).
                var read = wire.ReadWaiting(_header, ahead: _bulk is null, deadline);
                if (read == 0) return null;
                inFrame = true;
                Heard();
                ReadFully(wire, _header.AsSpan(read), deadline);
                var (type, length) = ParseHeader();
                var inPlace = type == FrameType.Image && length > 0 && length <= into.Length;
                byte[] payload = inPlace ? [] : FramePool.Take(length);
                var target = inPlace ? into[..length] : payload.AsSpan();
                if (_opening is null) ReadFully(wire, target, deadline);
                else OpenRecord(wire, _opening, target, deadline);
                inFrame = false;
                if (type == FrameType.Heartbeat) continue;
                if (type == FrameType.Pages)
                {
                    Divert(new Frame(type, payload));
                    continue;
                }
                if (inPlace) written = length;
                return new Frame(type, payload);
            }
        }
        catch (TimeoutException) when (inFrame)
        {
            // Nothing before the deadline but part of a frame: the caller gives up, and the link cannot go on.
            Cut($"node {_peer} sent part of a frame and then nothing until the reader's deadline");
            throw;
        }
        catch (EndOfStreamException e)
        {
            throw Cut(new LinkException(_deadReason() ?? $"link to node {_peer} closed in the middle of a frame", e));
        }
        catch (SyscallException e)
        {
            throw Cut(new LinkException(_deadReason() ?? $"link to node {_peer} broke: {e.Message}", e));
        }
        catch (ObjectDisposedException e)
        {
            // Closed by its owner under this reader (NodeLink.Dispose): a link failure, as the reading task says it.
            throw Cut(new LinkException(_deadReason() ?? $"the link to node {_peer} was closed by this node", e));
        }
        catch (LinkException e)
        {
            // A record that fails authentication, a frame of no known type or too long, Pages outside a post-copy.
            throw Cut(e);
        }
        finally
        {
            _directReading = false;
        }
    }

    private LinkException Cut(LinkException failure)
    {
        Cut(failure.Message);
        return failure;
    }

    /// <summary>The link is declared dead with <paramref name="reason"/> (NodeLink.Abandon: its socket shut down, the
    /// first reason kept, the reading task let go to read its end and say so).</summary>
    private void Cut(string reason) => _cut(reason);

    private void OpenRecord(BufferedDuplexStream wire, RecordDirection opening, Span<byte> payload, long deadline)
    {
        var (sealedPart, size, bulk) = SealedBuffer(opening, payload.Length);
        try
        {
            ReadFully(wire, sealedPart.AsSpan(0, size), deadline);
            Open(opening, sealedPart.AsSpan(0, size), payload);
        }
        finally
        {
            if (!bulk) ArrayPool<byte>.Shared.Return(sealedPart);
        }
    }

    private void ReadFully(BufferedDuplexStream wire, Span<byte> buffer, long deadline)
    {
        while (buffer.Length > 0)
        {
            var read = wire.ReadWaiting(buffer, ahead: true, deadline);
            if (read == 0) throw new EndOfStreamException();
            Heard();
            buffer = buffer[read..];
        }
    }
}
