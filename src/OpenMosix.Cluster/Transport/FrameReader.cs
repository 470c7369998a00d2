using System.Buffers;
using System.Buffers.Binary;
using System.Threading.Channels;

namespace OpenMosix.Cluster.Transport;

/// <summary>
/// Reads a link's frames all the time, whoever consumes them: heartbeats are dropped here, every other frame waits in
/// a short queue for <see cref="ReceiveAsync"/>. Reading on regardless is what lets a link hear its peer while the
/// code that owns it is busy elsewhere (sending an image, restoring one), so silence means the peer, never us. The
/// queue is short so that a slow consumer (a relay writing to a full pipe) still holds the sender back as TCP would;
/// while it is full the link is not silent: the peer has said plenty and waits for us. On a secured link each frame is
/// a record (<see cref="FrameWriter"/>): its payload and tag are read into one pooled buffer and decrypted from there
/// into the frame's own array (the ciphers of libsodium take the tag after the ciphertext; the bytes go through memory
/// once either way).
/// </summary>
internal sealed partial class FrameReader
{
    /// <summary>Frames read ahead of the consumer (up to 1 MiB each).</summary>
    private const int QueuedFrames = 2;
    private const int HeaderSize = FrameWriter.HeaderSize;

    private readonly Stream _stream;
    private readonly RecordDirection? _opening;
    private readonly ushort _peer;
    private readonly Func<string?> _deadReason;
    private readonly Action<string> _cut;
    /// <summary>Records from this size on are read into <see cref="_bulk"/>.</summary>
    private const int BulkFrom = 64 * 1024;

    private readonly byte[] _header = new byte[HeaderSize];
    private byte[]? _bulk;
    private readonly Channel<Frame> _frames = Channel.CreateBounded<Frame>(
        new BoundedChannelOptions(QueuedFrames) { SingleReader = false, SingleWriter = true });
    private long _lastHeard = Environment.TickCount64;
    private volatile bool _waitingForConsumer;
    private volatile LinkException? _failure;
    private IPageFrames? _pages;
    private int _pagesTold;
    private volatile bool _ended;
    /// <summary>The sink of a consumer waiting in <see cref="ReceiveAsync"/>, and the gate it is called and cleared under.</summary>
    private readonly Lock _inlineGate = new();
    private FrameSink? _inline;

    /// <param name="opening">The receiving direction of the link's record layer, or null for a plain link.</param>
    /// <param name="deadReason">Why the link was declared dead, if it was: the reason every later read fails with.</param>
    /// <param name="cut">Told when an image's reader failed in the middle of a frame (<see cref="ReceiveDirect"/>): the
    /// link cannot be read on from there, and must be declared dead with that reason (NodeLink.Abandon).</param>
    public FrameReader(Stream stream, RecordDirection? opening, ushort peer, Func<string?> deadReason, Action<string> cut)
    {
        _stream = stream;
        _opening = opening;
        _peer = peer;
        _deadReason = deadReason;
        _cut = cut;
    }

    /// <summary>Starts reading frames for good; before, the handshake may read one with <see cref="ReadFrameAsync"/>.</summary>
    public void Start() => _ = Task.Run(PumpAsync, CancellationToken.None);

    /// <summary>How long nothing has come from the peer, in ms of <see cref="Environment.TickCount64"/>; zero while
    /// the queue is full (we are not listening, the peer is not silent).</summary>
    public long SilentFor(long now) =>
        _waitingForConsumer || (Volatile.Read(ref _handover) == Parked && !_directReading) ? 0 : now - Volatile.Read(ref _lastHeard);

    public void DivertPages(IPageFrames handler)
    {
        Volatile.Write(ref _pages, handler);
        // Ended already: it is told now, as it would have been.
        if (_ended) TellPagesEnded();
    }

    private void TellPagesEnded()
    {
        if (Volatile.Read(ref _pages) is not { } pages || Interlocked.Exchange(ref _pagesTold, 1) == 1) return;
        pages.LinkEnded(_failure?.Message ?? $"link to node {_peer} closed");
    }

    /// <summary>The next frame, or null when the other side closed the connection cleanly between frames. While the
    /// caller waits with nothing queued, <paramref name="inline"/> (if given) is offered each frame on the reading
    /// thread as it is read (<see cref="NodeLink.ReceiveAsync(Func{Frame, bool}, CancellationToken)"/>).</summary>
    public async Task<Frame?> ReceiveAsync(CancellationToken cancel, FrameSink? inline = null)
    {
        // An image's reader left the socket to us without reaching the image's end (it failed): we read again.
        if (Volatile.Read(ref _handover) != None) EndDirect();
        while (true)
        {
            if (_frames.Reader.TryRead(out var frame))
            {
                if (frame.Type == FrameType.Heartbeat) continue; // a mark of the pump's parking (ReceiveDirect)
                return frame;
            }
            bool more;
            if (inline is null) more = await _frames.Reader.WaitToReadAsync(cancel).ConfigureAwait(false);
            else
            {
                lock (_inlineGate) _inline = inline;
                try
                {
                    more = await _frames.Reader.WaitToReadAsync(cancel).ConfigureAwait(false);
                }
                finally
                {
                    // Taken under the gate: a frame the sink is taking now is done before this caller goes on.
                    lock (_inlineGate) _inline = null;
                }
            }
            if (!more) return _failure is { } failure ? throw new LinkException(failure.Message, failure) : null;
        }
    }

    /// <summary>
    /// Offers a frame to the waiting consumer's sink on this thread, if one waits with nothing queued before it (so
    /// the order of frames holds): a relay's frame goes into home's pipe without a hop to another thread and back.
    /// While the sink works (a pipe write may block on a slow reader) the link is not silent: we are not listening, as
    /// with a full queue.
    /// </summary>
    private bool TryInline(FrameType type, ReadOnlySpan<byte> payload)
    {
        lock (_inlineGate)
        {
            if (_inline is not { } sink || _frames.Reader.Count > 0) return false;
            _waitingForConsumer = true;
            try
            {
                return sink(type, payload);
            }
            finally
            {
                Volatile.Write(ref _lastHeard, Environment.TickCount64);
                _waitingForConsumer = false;
            }
        }
    }

    private async Task PumpAsync()
    {
        try
        {
            while (true)
            {
                (FrameType Type, int Length) header;
                var between = BetweenFrames();
                try
                {
                    header = await ReadHeaderAsync(CancellationToken.None, between).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (between.IsCancellationRequested)
                {
                    // An image's reader asked for the socket while no frame was coming: nothing of one was read.
                    await ParkAsync().ConfigureAwait(false);
                    continue;
                }
                var (type, length) = header;
                if (type == 0) break;
                // A large record while a consumer waits to take frames on this thread: opened where it was read and
                // offered from there, so that a relay's MiB goes from the socket's buffer to home's pipe without a
                // payload array of its own (each length not kept by FramePool was a new one, cleared page by page).
                if (_opening is not null && length >= BulkFrom && type != FrameType.Pages && Volatile.Read(ref _inline) is not null)
                {
                    var opened = await OpenInPlaceAsync(_opening, length, CancellationToken.None).ConfigureAwait(false);
                    if (!TryInline(type, opened.Span))
                    {
                        var copy = FramePool.Take(length);
                        opened.Span.CopyTo(copy);
                        await QueueAsync(new Frame(type, copy)).ConfigureAwait(false);
                    }
                }
                else
                {
                    var frame = await ReadPayloadAsync(type, length, CancellationToken.None).ConfigureAwait(false);
                    if (frame.Type == FrameType.Heartbeat) continue;
                    if (frame.Type == FrameType.Pages) Divert(frame);
                    else if (!TryInline(frame.Type, frame.Payload)) await QueueAsync(frame).ConfigureAwait(false);
                }
                if (Volatile.Read(ref _handover) == Wanted) await ParkAsync().ConfigureAwait(false);
            }
            // A link declared dead reads as ended (its socket was shut down): it did not end cleanly.
            if (_deadReason() is { } dead) _failure = new LinkException(dead);
        }
        catch (LinkException e)
        {
            _failure = _deadReason() is { } dead ? new LinkException(dead, e) : e;
        }
        catch (EndOfStreamException e)
        {
            _failure = new LinkException(_deadReason() ?? $"link to node {_peer} closed in the middle of a frame", e);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or NotSupportedException
                                       or System.Security.Authentication.AuthenticationException)
        {
            _failure = new LinkException(_deadReason() ?? $"link to node {_peer} broke: {e.Message}", e);
        }
        finally
        {
            _frames.Writer.TryComplete();
            _ended = true;
            TellPagesEnded();
        }
    }

    /// <summary>The next frame, or null at a clean end between frames.</summary>
    /// <param name="firstByte">Cancels the wait for the frame's first byte only (none read: nothing is lost).</param>
    public async Task<Frame?> ReadFrameAsync(CancellationToken cancel, CancellationToken firstByte = default)
    {
        var (type, length) = await ReadHeaderAsync(cancel, firstByte).ConfigureAwait(false);
        return type == 0 ? null : await ReadPayloadAsync(type, length, cancel).ConfigureAwait(false);
    }

    /// <summary>The next frame's type and payload length; type 0 at a clean end between frames.</summary>
    /// <param name="firstByte">Cancels the wait for the frame's first byte only (none read: nothing is lost).</param>
    private async Task<(FrameType Type, int Length)> ReadHeaderAsync(CancellationToken cancel, CancellationToken firstByte = default)
    {
        var first = firstByte.CanBeCanceled ? firstByte : cancel;
        // After a large record another is likely: its header is read alone, so that its payload comes straight from
        // the socket into its buffer and not partly through the stream's read-ahead.
        var read = _bulk is not null && _stream is BufferedDuplexStream wire
            ? await wire.ReadWithoutAheadAsync(_header, first).ConfigureAwait(false)
            : await _stream.ReadAsync(_header.AsMemory(0, 1), first).ConfigureAwait(false);
        if (read == 0) return (0, 0);
        Heard();
        await ReadFullyAsync(_header.AsMemory(read), cancel).ConfigureAwait(false);
        return ParseHeader();
    }

    private async Task<Frame> ReadPayloadAsync(FrameType type, int length, CancellationToken cancel)
    {
        // Filled by the read or the decryption below: not zeroed first (a MiB per frame of a bulk transfer).
        var payload = FramePool.Take(length);
        if (_opening is null) await ReadFullyAsync(payload, cancel).ConfigureAwait(false);
        else await OpenRecordAsync(_opening, payload, cancel).ConfigureAwait(false);
        return new Frame(type, payload);
    }

    /// <summary>Reads a large record into the kept record buffer and opens it there (the plaintext over the
    /// ciphertext): its payload, valid until the next record is read.</summary>
    private async Task<ReadOnlyMemory<byte>> OpenInPlaceAsync(RecordDirection opening, int length, CancellationToken cancel)
    {
        // A large record's buffer is the kept one (SealedBuffer), so what is opened in it stays there for the caller.
        var (sealedPart, size, _) = SealedBuffer(opening, length);
        await ReadFullyAsync(sealedPart.AsMemory(0, size), cancel).ConfigureAwait(false);
        Open(opening, sealedPart.AsSpan(0, size), sealedPart.AsSpan(0, length));
        return sealedPart.AsMemory(0, length);
    }

    private async Task OpenRecordAsync(RecordDirection opening, byte[] payload, CancellationToken cancel)
    {
        var (sealedPart, size, bulk) = SealedBuffer(opening, payload.Length);
        try
        {
            await ReadFullyAsync(sealedPart.AsMemory(0, size), cancel).ConfigureAwait(false);
            Open(opening, sealedPart.AsSpan(0, size), payload);
        }
        finally
        {
            if (!bulk) ArrayPool<byte>.Shared.Return(sealedPart);
        }
    }

    /// <summary>Where a record of a <paramref name="length"/>-byte payload is read sealed. Large records follow each
    /// other (an image, a relay of a fast writer): their buffer is kept from one to the next, as the writer's is
    /// (FrameWriter.BulkBuffer); rented for each, it was often a new one. One reader at a time.</summary>
    private (byte[] Buffer, int Size, bool Bulk) SealedBuffer(RecordDirection opening, int length)
    {
        var size = length + opening.TagSize;
        var bulk = length >= BulkFrom;
        var sealedPart = bulk ? BulkBuffer(size) : ArrayPool<byte>.Shared.Rent(size);
        if (!bulk) ReleaseBulk();
        return (sealedPart, size, bulk);
    }

    private void Open(RecordDirection opening, ReadOnlySpan<byte> sealedPart, Span<byte> payload)
    {
        var record = opening.Records;
        if (!opening.TryOpen(_header, sealedPart, payload))
            throw new LinkException($"record {record} from node {_peer} failed authentication (altered, replayed, reordered or not sealed for this link)");
    }

    private (FrameType Type, int Length) ParseHeader()
    {
        var type = (FrameType)_header[0];
        if (!Enum.IsDefined(type)) throw new LinkException($"node {_peer} sent a frame of unknown type {_header[0]}");
        var length = BinaryPrimitives.ReadUInt32LittleEndian(_header.AsSpan(1));
        if (length > NodeLink.MaxPayload) throw new LinkException($"node {_peer} sent a frame of {length} bytes (at most {NodeLink.MaxPayload})");
        return (type, (int)length);
    }

    private void Divert(Frame frame)
    {
        if (Volatile.Read(ref _pages) is not { } pages) throw new LinkException($"node {_peer} sent a Pages frame outside a post-copy");
        pages.Arrived(frame);
    }

    /// <summary>Into the queue, waiting for room; while it waits the link is not silent.</summary>
    private async ValueTask QueueAsync(Frame frame)
    {
        if (_frames.Writer.TryWrite(frame)) return;
        _waitingForConsumer = true;
        try
        {
            await _frames.Writer.WriteAsync(frame).ConfigureAwait(false);
        }
        finally
        {
            // What the peer sent meanwhile waits in the socket: the silence starts now, not when we stopped.
            Volatile.Write(ref _lastHeard, Environment.TickCount64);
            _waitingForConsumer = false;
        }
    }

    private byte[] BulkBuffer(int size)
    {
        if (_bulk is { } kept && kept.Length >= size) return kept;
        ReleaseBulk();
        return _bulk = ArrayPool<byte>.Shared.Rent(Math.Max(size, NodeLink.MaxPayload + 32));
    }

    private void ReleaseBulk()
    {
        if (_bulk is null) return;
        ArrayPool<byte>.Shared.Return(_bulk);
        _bulk = null;
    }

    /// <summary>Every piece of a frame counts as a sign of life: a large frame on a slow path takes a while.</summary>
    private async Task ReadFullyAsync(Memory<byte> buffer, CancellationToken cancel)
    {
        while (buffer.Length > 0)
        {
            var read = await _stream.ReadAsync(buffer, cancel).ConfigureAwait(false);
            if (read == 0) throw new EndOfStreamException();
            Heard();
            buffer = buffer[read..];
        }
    }

    private void Heard() => Volatile.Write(ref _lastHeard, Environment.TickCount64);
}
