using Microsoft.Win32.SafeHandles;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>
/// How much one output pump took out of its pipe. Each read is counted under a lock held across it, so a count taken
/// with the process frozen for a checkpoint, plus what still sits in the pipe, is exactly what the process wrote:
/// a restart from that checkpoint writes again from there on, and home drops what it delivered already.
/// </summary>
/// <param name="taken">what counts as taken before this pump: an adopted stay's counts go on from what home delivered.</param>
internal sealed class PumpedBytes(long taken = 0)
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);
    private readonly Lock _gate = new();
    private long _taken = taken;
    private long _sent = taken;
    private readonly List<(long Mark, TaskCompletionSource Done)> _marks = [];

    /// <summary>Reads what the pipe holds once it holds something (0 at end of file); null while it is still empty.</summary>
    public int? Read(SafeFileHandle pipe, Span<byte> buffer)
    {
        // Waited for outside the lock, so a count is never held up by a process that writes nothing.
        if (!Readiness.WaitReadable(pipe, Poll)) return null;
        lock (_gate)
        {
            var n = Descriptors.Read(pipe, buffer);
            _taken += n;
            return n;
        }
    }

    /// <summary>
    /// <see cref="Read"/> for a pseudo-terminal's master in packet mode: each read starts with a header byte, and only
    /// what follows a zero header (data, not a report of changed modes) is counted, as only that is in
    /// <see cref="SentAllWrittenAsync"/>'s count of what waits in the terminal. Null while there is nothing to read;
    /// 0 once the last slave is closed and everything was read (EIO).
    /// </summary>
    public int? ReadPacket(SafeFileHandle master, Span<byte> buffer)
    {
        if (!Readiness.WaitReadable(master, Poll)) return null;
        lock (_gate)
        {
            int n;
            try
            {
                n = Descriptors.Read(master, buffer);
            }
            catch (SyscallException)
            {
                return 0; // EIO: no slave is left open, and nothing is left to read
            }
            if (n > 1 && buffer[0] == 0) _taken += n - 1;
            return n;
        }
    }

    /// <summary>The pump sent home <paramref name="bytes"/> more of what it took.</summary>
    public void Sent(int bytes)
    {
        lock (_gate)
        {
            _sent += bytes;
            foreach (var mark in _marks.Where(m => m.Mark <= _sent).ToList())
            {
                mark.Done.TrySetResult();
                _marks.Remove(mark);
            }
        }
    }

    /// <summary>Completes once the pump has sent home everything written into the pipe so far (a copy that ended wrote
    /// no more: its output goes home before its exit status, though the processes it forked hold the pipe open).</summary>
    public Task SentAllWrittenAsync(SafeFileHandle pipe)
    {
        lock (_gate)
        {
            var mark = _taken + PipePeek.Unread(pipe);
            if (_sent >= mark) return Task.CompletedTask;
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _marks.Add((mark, done));
            return done.Task;
        }
    }

    /// <summary>
    /// <see cref="SentAllWrittenAsync"/> for a pseudo-terminal's master: what a slave wrote reaches the master's read
    /// buffer through the kernel's flip buffers, which a poll pushes through first (n_tty_poll flushes them), and that
    /// buffer holds 4 KiB at most, the rest waiting in the flip buffers: so it is counted again once the pump caught up,
    /// until it is empty and stays so for a poll, at most <paramref name="rounds"/> times (the processes the copy forked may write on without
    /// end, and its exit status must still go home).
    /// </summary>
    public async Task SentAllWrittenToTerminalAsync(SafeFileHandle master, int rounds = 64)
    {
        for (var round = 0; round < rounds; round++)
        {
            Readiness.WaitReadable(master, TimeSpan.Zero);
            Task? caughtUp = null;
            lock (_gate)
            {
                var unread = PipePeek.Unread(master);
                if (unread != 0 || _sent < _taken) caughtUp = MarkLocked(_taken + unread);
            }
            if (caughtUp is null)
            {
                // Empty, and all of it sent: but the flip buffers refill the read buffer from a kernel worker that the
                // pump's last read only queued, which a loaded machine may not have run yet (a CI run saw the wait end
                // with 5,119 of 10,000 bytes sent). Empty only if it stays so for a poll's length.
                if (!Readiness.WaitReadable(master, Poll)) return;
                continue;
            }
            await caughtUp.ConfigureAwait(false);
        }
    }

    private Task MarkLocked(long mark)
    {
        if (_sent >= mark) return Task.CompletedTask;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _marks.Add((mark, done));
        return done.Task;
    }

    /// <summary>Everything the process wrote into the pipe so far: what was taken out and what is left in it.</summary>
    public long Written(SafeFileHandle pipe)
    {
        lock (_gate) return _taken + PipePeek.Unread(pipe);
    }
}
