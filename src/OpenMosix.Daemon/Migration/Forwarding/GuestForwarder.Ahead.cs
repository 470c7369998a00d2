using OpenMosix.Linux.Seccomp;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>
/// Read-ahead on forwarded stream sockets: once a read at home brought data, the copy's node asks home for the bytes
/// that follow (<see cref="ForwardOp.PeekAhead"/>, up to <see cref="AheadPieces"/> pieces, <see cref="AheadWindow"/>
/// bytes held or coming) and serves the copy's next reads from them here, without a round trip. Home only peeks: the
/// bytes stay in its socket until a read here has delivered them (<see cref="ForwardOp.Consumed"/>, sent before that
/// read is answered), so this buffer is a cache that may be dropped at any time. A move or a freeze needs nothing
/// from it; a read it cannot serve exactly (an address wanted, MSG_WAITALL, MSG_OOB..., a duplicate of the number)
/// drops it and goes home, where the read finds those bytes at the socket's head. A read never returns more than home's
/// socket held, and end of file or an error is always home's answer to a plain read made once the buffer is empty.
/// </summary>
internal sealed partial class GuestForwarder
{
    private const int AheadPieces = 4;
    private const long AheadWindow = AheadPieces * (long)ForwardWire.MaxData;
    private readonly Dictionary<int, Ahead> _ahead = [];
    private long _servedAhead;

    /// <summary>How many of the copy's reads were served from bytes read ahead (tests look).</summary>
    internal long ReadsServedAhead => Interlocked.Read(ref _servedAhead);

    /// <summary>One descriptor's read-ahead; used only under the descriptor's reader gate.</summary>
    private sealed class Ahead
    {
        /// <summary>Home does not peek on it (not a stream socket), or it got a second number: reads go home.</summary>
        public volatile bool Off;
        /// <summary>The last peek found nothing past what was peeked: one request at a time until data comes.</summary>
        public bool Dry;
        /// <summary>Home reads it ahead as a checked pipe (a FIFO, or one other processes at home read too): each read
        /// waits for its consume's answer, which may bring the bytes it really took.</summary>
        public bool Checked;
        public readonly Queue<Piece> Held = new();
        public long Bytes;
        /// <summary>Peeks sent, in order, not yet taken into <see cref="Held"/>.</summary>
        public readonly Queue<Task<ForwardReply>> Coming = new();

        public bool Empty => Bytes == 0 && Coming.Count == 0;

        /// <summary>Forgets what it holds: home still has those bytes at its socket's head (their arrays become garbage).</summary>
        public void Drop()
        {
            Held.Clear();
            Coming.Clear();
            Bytes = 0;
            Dry = false;
        }
    }

    /// <summary>Bytes held, and the <see cref="ReadPieces"/> array they lie in (null: none), given back with the last of them.</summary>
    private readonly record struct Piece(ReadOnlyMemory<byte> Bytes, byte[]? Lease);

    private Ahead? AheadOf(int fd, bool create)
    {
        lock (_ahead)
        {
            if (_ahead.TryGetValue(fd, out var ahead) || !create) return ahead;
            lock (_open)
            {
                // Only a descriptor known under one number: home's peek offset is the descriptor's, not the number's.
                if (!_open.Contains(fd) || _keyOf.GetValueOrDefault(fd, fd) != fd || _keyOf.Count(k => k.Value == fd) > 1) return null;
            }
            return _ahead[fd] = new Ahead();
        }
    }

    /// <summary>The descriptor got another number: no more read-ahead on it.</summary>
    private void StopAhead(int fd)
    {
        // Kept, switched off: its next read drops what it holds (under the reader gate this cannot take).
        lock (_ahead)
        {
            if (_ahead.TryGetValue(fd, out var ahead)) ahead.Off = true;
        }
    }

    private void ForgetAhead(int fd)
    {
        lock (_ahead) _ahead.Remove(fd);
    }

    /// <summary>
    /// Serves a plain read (<paramref name="plain"/>: a read, readv, or a receive that wants no address and no flags
    /// but MSG_DONTWAIT and MSG_PEEK) from what was read ahead; null when nothing is held (the read goes home). Any other
    /// read drops what is held first.
    /// </summary>
    private async Task<Outcome?> ReadAheadAsync(SeccompNotice n, int fd, List<(ulong Address, ulong Length)> vecs, int want, bool plain, bool peek,
        Func<ReadOnlyMemory<byte>, long, long>? afterwards)
    {
        if (AheadOf(fd, create: false) is not { } ahead) return null;
        if (ahead.Off || !plain || want == 0)
        {
            ahead.Drop();
            return null;
        }
        await TakeComingAsync(ahead, wait: ahead.Bytes == 0).ConfigureAwait(false);
        if (ahead.Bytes == 0) return null;
        if (!SeccompListener.IsValid(_listener, n.Id)) return Outcome.Interrupted;
        Interlocked.Increment(ref _servedAhead);
        var count = (int)Math.Min(want, ahead.Bytes);
        // A checked consume's answer carries at most one frame of the bytes it took instead: a pipe's read may be short.
        if (ahead.Checked) count = Math.Min(count, ForwardWire.MaxData);
        var done = new List<byte[]>();
        var data = Front(ahead, count, take: !peek, done);
        try
        {
            return await ServeAheadAsync(n, fd, vecs, ahead, count, data, peek, afterwards).ConfigureAwait(false);
        }
        finally
        {
            // Every byte of these is in the copy's memory or kept (copied) for the read's restart.
            foreach (var lease in done) ReadPieces.Return(lease);
        }
    }

    private async Task<Outcome?> ServeAheadAsync(SeccompNotice n, int fd, List<(ulong Address, ulong Length)> vecs, Ahead ahead, int count,
        ReadOnlyMemory<byte> data, bool peek, Func<ReadOnlyMemory<byte>, long, long>? afterwards)
    {
        Scatter(vecs, data.Span);
        var result = afterwards?.Invoke(ReadOnlyMemory<byte>.Empty, count) ?? count;
        if (peek)
        {
            SeccompListener.Answer(_listener, n.Id, result);
            return Outcome.Done;
        }
        // Home takes the bytes out of its socket before the read is answered: a freeze after the answer finds them
        // gone at home, and one before it finds them kept here (below) for the read's restart.
        var consumed = await SendCountedAsync(new ForwardRequest(0, ForwardOp.Consumed, fd, count)).ConfigureAwait(false);
        if (ahead.Checked && await consumed.ConfigureAwait(false) is var answer && (answer.Result != count || !answer.Data.IsEmpty))
        {
            // Another reader at home took bytes between: what is held is not the pipe's head. The read returns what its
            // consume really took; none (the pipe is empty now), it goes home as a plain read, which waits there.
            ahead.Drop();
            if (answer.Data.IsEmpty) return null;
            Scatter(vecs, answer.Data.Span);
            result = afterwards?.Invoke(ReadOnlyMemory<byte>.Empty, answer.Data.Length) ?? answer.Data.Length;
            if (!SeccompListener.Answer(_listener, n.Id, result)) KeepUnread(fd, answer.Data.ToArray());
            return Outcome.Done;
        }
        if (ahead.Bytes == 0) await TakeComingAsync(ahead, wait: true).ConfigureAwait(false);
        // Nothing left here: the read returns once home's readiness, as the consume left it, is on the placeholder
        // (home notices it before it answers), so a poll after this read does not see bytes that are gone.
        if (ahead.Bytes == 0) await consumed.ConfigureAwait(false);
        else await TopUpAsync(fd, ahead).ConfigureAwait(false);
        if (!SeccompListener.Answer(_listener, n.Id, result)) KeepUnread(fd, data.ToArray());
        return Outcome.Done;
    }

    /// <summary>Takes the peeks that have come (all of them, waiting, with <paramref name="wait"/>) into what is held, in order.</summary>
    private static async Task TakeComingAsync(Ahead ahead, bool wait)
    {
        while (ahead.Coming.TryPeek(out var next) && (wait || next.IsCompleted))
        {
            var reply = await next.ConfigureAwait(false);
            _ = ahead.Coming.Dequeue();
            if (reply.Result > 0)
            {
                if (reply.Extra.Span is [ForwardWire.CheckedAhead]) ahead.Checked = true;
                ahead.Held.Enqueue(new Piece(reply.Data[..(int)Math.Min(reply.Result, reply.Data.Length)], reply.Lease));
                ahead.Bytes += Math.Min(reply.Result, reply.Data.Length);
                ahead.Dry = false;
                continue;
            }
            ahead.Dry = true;
            if (reply.Result == -(long)Errno.EOPNOTSUPP) ahead.Off = true;
        }
    }

    /// <summary>The first <paramref name="count"/> bytes held (a slice of one piece when they lie in one, else joined in a
    /// <see cref="ReadPieces"/> array), removed with <paramref name="take"/>; the arrays to give back once the read has
    /// scattered them are added to <paramref name="done"/> (pieces taken whole, the joined array).</summary>
    private static ReadOnlyMemory<byte> Front(Ahead ahead, int count, bool take, List<byte[]> done)
    {
        var first = ahead.Held.Peek();
        if (first.Bytes.Length >= count && !take) return first.Bytes[..count];
        if (first.Bytes.Length >= count)
        {
            ahead.Held.Dequeue();
            if (first.Bytes.Length > count) Requeue(ahead, first with { Bytes = first.Bytes[count..] });
            else if (first.Lease is { } lease) done.Add(lease);
            ahead.Bytes -= count;
            return first.Bytes[..count];
        }
        var joined = ReadPieces.Rent();
        done.Add(joined);
        var at = 0;
        var pieces = take ? null : new List<Piece>(ahead.Held);
        var index = 0;
        while (at < count)
        {
            var piece = take ? ahead.Held.Dequeue() : pieces![index++];
            var part = Math.Min(piece.Bytes.Length, count - at);
            piece.Bytes.Span[..part].CopyTo(joined.AsSpan(at));
            at += part;
            if (take && part < piece.Bytes.Length) Requeue(ahead, piece with { Bytes = piece.Bytes[part..] });
            else if (take && piece.Lease is { } lease) done.Add(lease);
        }
        if (take) ahead.Bytes -= count;
        return joined.AsMemory(0, count);
    }

    /// <summary>Puts the rest of a piece back at the front of what is held.</summary>
    private static void Requeue(Ahead ahead, Piece rest)
    {
        var after = ahead.Held.ToArray();
        ahead.Held.Clear();
        ahead.Held.Enqueue(rest);
        foreach (var piece in after) ahead.Held.Enqueue(piece);
    }

    /// <summary>After a read that brought data: asks home for what follows, up to the window.</summary>
    private async Task AheadAfterReadAsync(int fd)
    {
        if (AheadOf(fd, create: true) is { Off: false } ahead) await TopUpAsync(fd, ahead).ConfigureAwait(false);
    }

    private async Task TopUpAsync(int fd, Ahead ahead)
    {
        var most = ahead.Dry ? 1 : AheadPieces;
        while (!ahead.Off && !_holding && ahead.Coming.Count < most && ahead.Bytes + ahead.Coming.Count * (long)ForwardWire.MaxData < AheadWindow)
            ahead.Coming.Enqueue(await SendCountedAsync(new ForwardRequest(0, ForwardOp.PeekAhead, fd, ForwardWire.MaxData)).ConfigureAwait(false));
    }

    /// <summary>Sends a call that counts as under way until home answers it (a freeze waits for it), without waiting.</summary>
    private async Task<Task<ForwardReply>> SendCountedAsync(ForwardRequest request)
    {
        Interlocked.Increment(ref _active);
        var reply = await SendCallAsync(request.Op, ForwardWire.Encode(request)).ConfigureAwait(false);
        _ = reply.ContinueWith(_ => Interlocked.Decrement(ref _active), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return reply;
    }
}
