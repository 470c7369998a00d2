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

    /// <summary>Everything the process wrote into the pipe so far: what was taken out and what is left in it.</summary>
    public long Written(SafeFileHandle pipe)
    {
        lock (_gate) return _taken + PipePeek.Unread(pipe);
    }
}
