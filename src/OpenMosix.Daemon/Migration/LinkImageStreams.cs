namespace OpenMosix.Daemon.Migration;

/// <summary>
/// Writes an image into a node link as Image frames of up to 1 MiB, and ImageEnd when disposed after
/// <see cref="Complete"/>. The dumper writes from the tracer thread, so writes block until the frame is sent: the
/// network's pace is the dump's pace, and no more than one frame is ever buffered. A frame the link cannot send within
/// its timeout ends the link (<see cref="ImageDeadline"/>).
/// </summary>
public sealed class LinkImageWriteStream(NodeLink link) : Stream
{
    private const int FrameBytes = 1 << 20;
    /// <summary>Writes from this size on are sent from the caller's memory (<see cref="SendDirect"/>).</summary>
    private const int DirectFrom = 64 * 1024;
    private readonly MemoryStream _pending = new(FrameBytes);
    private readonly PinnedSpan _pinned = new();
    private bool _completed;

    public long BytesSent { get; private set; }

    /// <summary>Called with <see cref="BytesSent"/> after each frame.</summary>
    public Action<long>? FrameSent { get; init; }

    /// <summary>Holds each frame back to the move's bandwidth limit (migration.bandwidth_limit_mib_s); null: none. The
    /// sender's thread sleeps for it, as it waits for a slow link.</summary>
    public BandwidthPacer? Pacer { get; init; }

    /// <summary>
    /// Sends one whole image on the link on a blocking thread: <paramref name="write"/> writes it (a checkpoint, a
    /// pre-copy round), then the end marker follows. Returns the bytes sent. When <paramref name="write"/> fails the
    /// end marker still follows, so the receiver reads a truncated image (which the format refuses) and then the
    /// next message, instead of taking that message for the middle of an image. <paramref name="sent"/> hears the
    /// bytes sent so far after each frame (a move's progress).
    /// </summary>
    public static Task<long> SendAsync(NodeLink link, Action<Stream> write, Action<long>? sent = null, BandwidthPacer? pacer = null) => Blocking.Run(() =>
    {
        ArgumentNullException.ThrowIfNull(write);
        using var wire = new LinkImageWriteStream(link) { FrameSent = sent, Pacer = pacer };
        try
        {
            write(wire);
        }
        catch (Exception e) when (e is not LinkException)
        {
            wire.Abandon();
            throw;
        }
        wire.Complete();
        return wire.BytesSent;
    });

    /// <summary>Ends an image that will not be completed: only the end marker goes, if the link still takes it.</summary>
    private void Abandon()
    {
        try
        {
            _pending.SetLength(0);
            ImageDeadline.Send(link, FrameType.ImageEnd, ReadOnlyMemory<byte>.Empty);
            _completed = true;
        }
        catch (LinkException)
        {
            // The link is gone as well: the receiver learns that from the link itself.
        }
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => BytesSent + _pending.Length; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length >= DirectFrom)
        {
            SendDirect(buffer);
            return;
        }
        while (buffer.Length > 0)
        {
            var room = FrameBytes - (int)_pending.Length;
            var take = Math.Min(room, buffer.Length);
            _pending.Write(buffer[..take]);
            buffer = buffer[take..];
            if (_pending.Length == FrameBytes) SendPending();
        }
    }

    public override void Flush()
    {
        if (_pending.Length > 0) SendPending();
    }

    /// <summary>Sends what is left and the end marker: the receiver's reader sees end of stream.</summary>
    public void Complete()
    {
        if (_completed) return;
        Flush();
        ImageDeadline.Send(link, FrameType.ImageEnd, ReadOnlyMemory<byte>.Empty);
        _completed = true;
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _pending.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>
    /// A large write (a run of pages from the dumper's chunk buffers, a batch of small runs) leaves in frames cut
    /// from the caller's memory: copying it into a frame of our own first, and that into a new array for the link,
    /// cost two more touches of every byte and a fresh MiB to fault in per frame. What is pending (a section's header)
    /// goes ahead as a short frame. The memory is pinned for no longer than the sends, which return once the link has
    /// taken each frame (sealed into the link's own buffer, or written to the socket).
    /// </summary>
    private void SendDirect(ReadOnlySpan<byte> buffer)
    {
        Flush();
        _pinned.Use(buffer, memory =>
        {
            for (var offset = 0; offset < memory.Length; offset += FrameBytes)
            {
                var frame = memory.Slice(offset, Math.Min(FrameBytes, memory.Length - offset));
                Pacer?.Pace(frame.Length);
                ImageDeadline.Send(link, FrameType.Image, frame);
                BytesSent += frame.Length;
                FrameSent?.Invoke(BytesSent);
            }
        });
    }

    private void SendPending()
    {
        // The link is done with the frame when the send returns: the pending buffer itself goes, not a copy of it.
        var length = (int)_pending.Length;
        Pacer?.Pace(length);
        ImageDeadline.Send(link, FrameType.Image, _pending.GetBuffer().AsMemory(0, length));
        BytesSent += length;
        _pending.SetLength(0);
        FrameSent?.Invoke(BytesSent);
    }
}

/// <summary>
/// Reads an image out of a node link: the payloads of Image frames in order, end of stream at ImageEnd; the relay's
/// own frames (stdio, forwarded calls) go to <paramref name="stdio"/>. Any other frame in the middle of an image is a
/// protocol error, and so is the link closing before ImageEnd. A frame that does
/// not come within the link's timeout ends the link (<see cref="ImageDeadline"/>): a restore on the tracer thread
/// never waits for ever. A periodic checkpoint travels while the process runs on, so the other end's control messages
/// may come between its frames: <paramref name="control"/>, if given, takes them (to be handled after the image).
/// The frames are read on the reading thread itself (<see cref="NodeLink.ReceiveImage"/>), each Image frame opened
/// straight into the caller's buffer when it fits there (a section's bytes, read whole by the image reader).
/// </summary>
public sealed class LinkImageReadStream(NodeLink link, Action<Frame>? stdio = null, Action<Frame>? control = null) : Stream
{
    private byte[] _current = [];
    private int _offset;
    private bool _ended;

    public long BytesReceived { get; private set; }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => BytesReceived; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        while (_offset == _current.Length)
        {
            if (_ended) return 0;
            var frame = ImageDeadline.Receive(link, buffer, out var written)
                ?? throw new LinkException($"node {link.PeerNode} closed the link in the middle of an image");
            if (written > 0)
            {
                // Opened straight into the caller's buffer (a section's bytes): no copy out of a frame.
                BytesReceived += written;
                return written;
            }
            switch (frame.Type)
            {
                case FrameType.Image:
                    // Read out: no one else holds an image frame, and the next one is received into it.
                    FramePool.Return(_current);
                    _current = frame.Payload;
                    _offset = 0;
                    break;
                case FrameType.ImageEnd:
                    FramePool.Return(_current);
                    (_current, _offset) = ([], 0);
                    _ended = true;
                    link.EndImage();
                    break;
                case FrameType.Stdio or FrameType.StdioEnd or FrameType.Forward when stdio is not null:
                    // Output the process wrote just before it froze travels beside its image, and so do the calls
                    // on forwarded descriptors it makes while a pre-copy round or a checkpoint streams.
                    stdio(frame);
                    break;
                case FrameType.Control when control is not null:
                    control(frame);
                    break;
                default:
                    throw new LinkException($"node {link.PeerNode} sent a {frame.Type} frame in the middle of an image");
            }
        }
        var n = Math.Min(buffer.Length, _current.Length - _offset);
        _current.AsSpan(_offset, n).CopyTo(buffer);
        _offset += n;
        BytesReceived += n;
        return n;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
