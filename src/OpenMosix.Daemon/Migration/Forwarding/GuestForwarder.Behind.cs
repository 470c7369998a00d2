using OpenMosix.Linux.Seccomp;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>
/// Write-behind: a write or send (no address, no flags but MSG_NOSIGNAL) on a pipe, FIFO or stream socket that is in
/// blocking mode at home is answered with its whole length once its pieces are on the link, not when home has written
/// them, so a program streaming to such a descriptor keeps the link busy instead of waiting a round trip per call.
/// Home writes each such piece whole and in order, as the blocking write would have. A piece that fails (or comes out
/// short, when the stay ends) is reported to the next write or send on the descriptor, as its error (EPIPE with its
/// SIGPIPE unless that call asked for MSG_NOSIGNAL), and home writes no later piece written behind before that report.
/// At most <see cref="BehindWindow"/> pieces per descriptor are unanswered at home: the next write waits, as a
/// blocking write to a full pipe does. The pieces count as calls under way: a freeze waits for home's answers to them.
/// </summary>
internal sealed partial class GuestForwarder
{
    private const int BehindWindow = 4;
    private readonly Dictionary<int, Behind> _behind = [];

    private sealed class Behind(long chain)
    {
        /// <summary>Whether home said the descriptor may be written behind; null until asked.</summary>
        public bool? Allowed { get; set; }
        /// <summary>The chain of the pieces written behind since the last error was reported.</summary>
        public long Chain { get; set; } = chain;
        /// <summary>A negated errno to give the next write; 0 for none.</summary>
        public long Failure { get; set; }
        public SemaphoreSlim Window { get; } = new(BehindWindow, BehindWindow);
    }

    private Behind BehindOf(int fd)
    {
        lock (_behind)
        {
            if (!_behind.TryGetValue(fd, out var behind)) _behind[fd] = behind = new Behind(Interlocked.Increment(ref _nextChain));
            return behind;
        }
    }

    private async Task<bool> MayWriteBehindAsync(int fd, ForwardOp op, int flags, ReadOnlyMemory<byte> address)
    {
        if (!(op == ForwardOp.Write || (op == ForwardOp.Send && address.IsEmpty && (flags & ~ForwardedCalls.MsgNoSignal) == 0))) return false;
        var behind = BehindOf(fd);
        lock (_behind)
        {
            if (behind.Allowed is { } known) return known;
        }
        var allowed = (await CallAsync(new ForwardRequest(0, ForwardOp.Streams, fd)).ConfigureAwait(false)).Result == 1;
        lock (_behind) behind.Allowed ??= allowed;
        return allowed;
    }

    /// <summary>After a call that may change O_NONBLOCK (F_SETFL, FIONBIO): home is asked again at the next write.</summary>
    private async Task<Outcome> ForgetWriteMode(Task<Outcome> call)
    {
        try
        {
            return await call.ConfigureAwait(false);
        }
        finally
        {
            // The flag is the open file's: every number of the copy that names it may be affected.
            lock (_behind)
            {
                foreach (var behind in _behind.Values) behind.Allowed = null;
            }
        }
    }

    private void ForgetBehind(int fd)
    {
        lock (_behind) _behind.Remove(fd);
    }

    private async Task<Outcome> WriteBehindAsync(SeccompNotice n, int fd, List<(ulong Address, ulong Length)> vecs, ForwardOp op, int flags,
        List<byte[]> frames)
    {
        var behind = BehindOf(fd);
        long failure;
        lock (_behind)
        {
            failure = behind.Failure;
            if (failure < 0)
            {
                behind.Failure = 0;
                behind.Chain = Interlocked.Increment(ref _nextChain);
            }
        }
        if (failure < 0)
        {
            if (failure == -(long)Errno.EPIPE && (flags & ForwardedCalls.MsgNoSignal) == 0) Signals.Kill(_pid, Signals.SIGPIPE);
            return new(failure);
        }
        var total = Total(vecs);
        long sent = 0;
        var written = new List<ReadOnlyMemory<byte>>();
        while (sent < total)
        {
            if (!SeccompListener.IsValid(_listener, n.Id)) return Interrupted(fd, written);
            var request = new ForwardRequest(0, op, fd, op == ForwardOp.Send ? flags : 0, ForwardWire.WholePiece, behind.Chain);
            var (frame, piece) = NextPiece(vecs, sent, total, request, frames);
            var already = sent == 0 ? TakeUnreported(fd, piece.Span) : 0;
            if (already > 0)
            {
                sent += already;
                continue;
            }
            await behind.Window.WaitAsync().ConfigureAwait(false);
            Interlocked.Increment(ref _active);
            _ = AnsweredBehindAsync(behind, request.A2, await SendCallAsync(op, frame).ConfigureAwait(false), piece.Length);
            if (written.Sum(w => (long)w.Length) + piece.Length <= KeptWrittenLimit) written.Add(piece);
            sent += piece.Length;
        }
        return new(sent, sent > 0 ? () => KeepUnreported(fd, Joined(written)) : null);
    }

    /// <summary>Home's answer to a piece written behind: a failure is kept for the next write (not one of a chain whose
    /// failure was reported already, nor a piece home skipped: the piece that broke the chain says why).</summary>
    private async Task AnsweredBehindAsync(Behind behind, long chain, Task<ForwardReply> answer, int length)
    {
        try
        {
            var reply = await answer.ConfigureAwait(false);
            // 0 is a piece home skipped after one of its chain failed: that one's error is the one to report (the
            // answers' continuations may run out of order, so the skipped piece's could come first).
            if (reply.Result < length && reply.Result != 0)
            {
                lock (_behind)
                {
                    if (behind.Failure == 0 && behind.Chain == chain) behind.Failure = reply.Result < 0 ? reply.Result : -(long)Errno.EIO;
                }
            }
        }
        finally
        {
            behind.Window.Release();
            Interlocked.Decrement(ref _active);
        }
    }
}
