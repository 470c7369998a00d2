using System.Buffers;
using System.Buffers.Binary;
using OpenMosix.Linux.Seccomp;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>Reads and writes: the data moves between the copy's buffers (one or an iovec array) and home in pieces
/// of at most <see cref="ForwardWire.MaxData"/>.</summary>
internal sealed partial class GuestForwarder
{
    private const int MaxIoVecs = 1024, KeptWrittenLimit = 4 << 20, WriteWindow = 4;
    private long _nextChain;
    // Reads on one fd one at a time: a read restarted after a signal must find what its interrupted self got.
    private readonly Dictionary<int, SemaphoreSlim> _readers = [];

    // Writes on one fd one at a time, each answered before the next starts: a write restarted after its first try
    // was interrupted (a pre-copy round's stop) must find what that try wrote, or home writes it twice.
    private readonly Dictionary<int, SemaphoreSlim> _writers = [];

    private SemaphoreSlim ReaderOf(int fd) => GateOf(_readers, fd);

    private static SemaphoreSlim GateOf(Dictionary<int, SemaphoreSlim> gates, int fd)
    {
        lock (gates)
        {
            if (!gates.TryGetValue(fd, out var gate)) gates[fd] = gate = new SemaphoreSlim(1, 1);
            return gate;
        }
    }

    private List<(ulong Address, ulong Length)> ReadIoVecs(ulong address, ulong count)
    {
        if (count > MaxIoVecs) throw new SyscallException("readv/writev", Errno.EINVAL);
        var raw = new byte[(int)count * 16];
        ProcessMemory.Read(_pid, address, raw);
        var vecs = new List<(ulong, ulong)>((int)count);
        for (var i = 0; i < (int)count; i++)
            vecs.Add((BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(i * 16)), BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(i * 16 + 8))));
        return vecs;
    }

    private static long Total(List<(ulong Address, ulong Length)> vecs) => (long)Math.Min(vecs.Aggregate(0UL, (sum, v) => sum + v.Length), long.MaxValue);

    /// <summary>A read of at most one piece, from bytes kept for this fd first, scattered into the copy's buffers.</summary>
    private async Task<Outcome> ReadAsync(SeccompNotice n, int fd, List<(ulong Address, ulong Length)> vecs, ForwardOp op, long offset = 0,
        int flags = 0, bool wantAddress = false, Func<ReadOnlyMemory<byte>, long, long>? afterwards = null)
    {
        var gate = ReaderOf(fd);
        await gate.WaitAsync().ConfigureAwait(false);
        try
        {
            return await ReadInOrderAsync(n, fd, vecs, op, offset, flags, wantAddress, afterwards).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<Outcome> ReadInOrderAsync(SeccompNotice n, int fd, List<(ulong Address, ulong Length)> vecs, ForwardOp op, long offset,
        int flags, bool wantAddress, Func<ReadOnlyMemory<byte>, long, long>? afterwards)
    {
        var want = (int)Math.Min(Total(vecs), ForwardWire.MaxData);
        if (want == 0 && op != ForwardOp.Receive) return new(0);
        var peek = (flags & ForwardedCalls.MsgPeek) != 0;
        ReadOnlyMemory<byte> data;
        var address = ReadOnlyMemory<byte>.Empty;
        byte[]? lease = null;
        try
        {
            if (op != ForwardOp.ReadAt && !peek && TakeUnread(fd, want) is { } kept)
            {
                data = kept;
            }
            else
            {
                if (op is ForwardOp.Read or ForwardOp.Receive)
                {
                    var plain = op == ForwardOp.Read || (!wantAddress && (flags & ~(ForwardedCalls.MsgDontWait | ForwardedCalls.MsgPeek)) == 0);
                    if (await ReadAheadAsync(n, fd, vecs, want, plain, peek, afterwards).ConfigureAwait(false) is { } served) return served;
                }
                var request = op == ForwardOp.Receive
                    ? new ForwardRequest(0, op, fd, want, flags, wantAddress ? 1 : 0)
                    : new ForwardRequest(0, op, fd, want, offset);
                // A read whose turn came after it stopped waiting (a stop interrupted it, and its restart was served
                // first) is not made at home: there it could wait for data that only the copy's next call brings, and
                // hold up a freeze until it gives up with that read still under way at home.
                if (!SeccompListener.IsValid(_listener, n.Id)) return Outcome.Interrupted;
                var reply = await CallAsync(request).ConfigureAwait(false);
                lease = reply.Lease;
                if (reply.Result < 0) return new(reply.Result);
                data = reply.Data; // a slice of the frame as read from the link: scattered from there, copied only to be kept
                address = reply.Extra;
                if (reply.Result > data.Length) return new(reply.Result); // a datagram longer than asked (MSG_TRUNC)
            }
            var keep = op != ForwardOp.ReadAt && !peek;
            if (!SeccompListener.IsValid(_listener, n.Id))
            {
                if (keep) KeepUnread(fd, data.ToArray());
                return Outcome.Interrupted;
            }
            Scatter(vecs, data.Span);
            var result = afterwards?.Invoke(address, data.Length) ?? data.Length;
            // Answered here, before the next read on this fd may look for bytes kept for it.
            if (!SeccompListener.Answer(_listener, n.Id, result))
            {
                if (keep && data.Length > 0) KeepUnread(fd, data.ToArray());
            }
            else if (keep && data.Length > 0 && op is ForwardOp.Read or ForwardOp.Receive)
            {
                await AheadAfterReadAsync(fd).ConfigureAwait(false);
            }
            return Outcome.Done;
        }
        finally
        {
            // The reply's array, once its bytes are in the copy's memory or kept (copied) for the read's restart.
            ReadPieces.Return(lease);
        }
    }

    private void Scatter(List<(ulong Address, ulong Length)> vecs, ReadOnlySpan<byte> data)
    {
        foreach (var (address, length) in vecs)
        {
            if (data.IsEmpty) return;
            var part = (int)Math.Min(length, (ulong)data.Length);
            ProcessMemory.Write(_pid, address, data[..part]);
            data = data[part..];
        }
    }

    private byte[] Gather(List<(ulong Address, ulong Length)> vecs, long from, int count)
    {
        var data = new byte[count];
        Gather(vecs, from, data);
        return data;
    }

    private void Gather(List<(ulong Address, ulong Length)> vecs, long from, Span<byte> data)
    {
        var count = data.Length;
        var at = 0;
        var skip = (ulong)from;
        foreach (var (address, length) in vecs)
        {
            if (at == count) break;
            if (skip >= length)
            {
                skip -= length;
                continue;
            }
            var part = (int)Math.Min(length - skip, (ulong)(count - at));
            ProcessMemory.Read(_pid, address + skip, data.Slice(at, part));
            at += part;
            skip = 0;
        }
    }

    /// <summary>
    /// A write (or send) in pieces; a short or failed piece ends it with what was written, as the kernel does. Up to
    /// <see cref="WriteWindow"/> pieces are on their way at once (home writes them in order), so a bulk write streams
    /// instead of waiting a round trip per piece; they carry one chain number, and home writes none of a chain after
    /// a piece of it came out short or failed, so nothing past the kernel's stopping point is written. On a blocking
    /// pipe, FIFO or stream socket the write is written behind instead (<see cref="WriteBehindAsync"/>). Each piece is
    /// read from the copy's memory straight into its frame, one from the pool, given back once the call is answered.
    /// </summary>
    private async Task<Outcome> WriteAsync(SeccompNotice n, int fd, List<(ulong Address, ulong Length)> vecs, ForwardOp op,
        int flags = 0, ReadOnlyMemory<byte> address = default, long offset = 0)
    {
        var gate = GateOf(_writers, fd);
        await gate.WaitAsync().ConfigureAwait(false);
        var frames = new List<byte[]>();
        try
        {
            var outcome = await MayWriteBehindAsync(fd, op, flags, address).ConfigureAwait(false)
                ? await WriteBehindAsync(n, fd, vecs, op, flags, frames).ConfigureAwait(false)
                : await WriteInOrderAsync(n, fd, vecs, op, flags, address, offset, frames).ConfigureAwait(false);
            if (outcome.Gone) return outcome;
            // Answered here, before the next write on this fd may look for what this one wrote.
            try
            {
                if (!SeccompListener.Answer(_listener, n.Id, outcome.Result)) outcome.Undelivered?.Invoke();
            }
            catch (Exception e) when (e is SyscallException or ObjectDisposedException)
            {
                // The copy ended, or the stay did: nobody waits for this answer.
            }
            return Outcome.Done;
        }
        finally
        {
            gate.Release();
            foreach (var frame in frames) ArrayPool<byte>.Shared.Return(frame);
        }
    }

    /// <summary>The next piece of a write, from <paramref name="sent"/> on, read from the copy's memory into a pooled
    /// frame (added to <paramref name="frames"/>); the frame to send and the piece's bytes within it.</summary>
    private (Memory<byte> Frame, ReadOnlyMemory<byte> Piece) NextPiece(List<(ulong Address, ulong Length)> vecs, long sent, long total,
        ForwardRequest request, List<byte[]> frames)
    {
        var length = (int)Math.Min(total - sent, ForwardWire.MaxData);
        var frame = ForwardWire.RentRequest(request, length, out var dataAt, out var frameLength);
        frames.Add(frame);
        Gather(vecs, sent, frame.AsSpan(dataAt, length));
        return (frame.AsMemory(0, frameLength), frame.AsMemory(dataAt, length));
    }

    private async Task<Outcome> WriteInOrderAsync(SeccompNotice n, int fd, List<(ulong Address, ulong Length)> vecs, ForwardOp op,
        int flags, ReadOnlyMemory<byte> address, long offset, List<byte[]> frames)
    {
        var total = Total(vecs);
        long done = 0, sent = 0, failure = 0;
        // What home wrote, kept for a restart: the pieces themselves, joined only if the result is not delivered (a
        // copy of every piece into one list cost a large allocation per MiB written).
        var written = new List<ReadOnlyMemory<byte>>();
        long kept = 0;
        var chain = total > ForwardWire.MaxData ? Interlocked.Increment(ref _nextChain) : 0;
        var inFlight = new Queue<(Task<ForwardReply> Reply, ReadOnlyMemory<byte> Piece)>();
        bool first = true, ended = false, stopped = false, interrupted = false;
        while (true)
        {
            // An empty send still sends (an empty datagram); an empty write writes nothing.
            while (!ended && inFlight.Count < WriteWindow && (sent < total || (first && total == 0 && op == ForwardOp.Send)))
            {
                first = false;
                if (!SeccompListener.IsValid(_listener, n.Id))
                {
                    interrupted = ended = true;
                    break;
                }
                var request = new ForwardRequest(0, op, fd, op == ForwardOp.Send ? flags : 0, offset + sent, chain) { Address = address };
                var (frame, piece) = NextPiece(vecs, sent, total, request, frames);
                var already = inFlight.Count == 0 && done == sent ? TakeUnreported(fd, piece.Span) : 0;
                if (already > 0)
                {
                    done = sent += already;
                    continue;
                }
                inFlight.Enqueue((await SendCallAsync(op, frame).ConfigureAwait(false), piece));
                sent += piece.Length;
                if (piece.Length == 0) ended = true;
            }
            if (!inFlight.TryDequeue(out var next)) break;
            var reply = await next.Reply.ConfigureAwait(false);
            if (stopped) continue; // after a short or failed piece: home did not write it
            if (reply.Result < 0)
            {
                failure = reply.Result;
                stopped = ended = true;
                continue;
            }
            if (reply.Result > 0 && kept + reply.Result <= KeptWrittenLimit)
            {
                written.Add(next.Piece[..(int)reply.Result]);
                kept += reply.Result;
            }
            done += reply.Result;
            if (reply.Result < next.Piece.Length) stopped = ended = true;
        }
        if (interrupted) return Interrupted(fd, written);
        if (failure < 0)
        {
            if (failure == -(long)Errno.EPIPE && (flags & ForwardedCalls.MsgNoSignal) == 0) Signals.Kill(_pid, Signals.SIGPIPE);
            if (done == 0) return new(failure);
        }
        return new(done, done > 0 ? () => KeepUnreported(fd, Joined(written)) : null);
    }

    private static byte[] Joined(List<ReadOnlyMemory<byte>> pieces)
    {
        var joined = new byte[pieces.Sum(p => p.Length)];
        var at = 0;
        foreach (var piece in pieces)
        {
            piece.Span.CopyTo(joined.AsSpan(at));
            at += piece.Length;
        }
        return joined;
    }

    private Outcome Interrupted(int fd, List<ReadOnlyMemory<byte>> written)
    {
        if (written.Count > 0) KeepUnreported(fd, Joined(written));
        return Outcome.Interrupted;
    }
}
