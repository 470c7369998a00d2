using OpenMosix.Checkpoint.Restore;

namespace OpenMosix.Checkpoint.Engine;

/// <summary>
/// Waiting for restored processes (children of omd) to end: reaped only on the tracer thread, between its work.
/// </summary>
public sealed partial class CheckpointEngine
{
    /// <summary>Waits for a restored process (a child of this process) to end, and reaps it.</summary>
    public ExitStatus WaitForExit(RestoredProcess process)
    {
        ArgumentNullException.ThrowIfNull(process);
        var status = Waiting.WaitPid(process.Pid, Waiting.WALL);
        return ExitStatus.Of(status);
    }

    /// <summary>
    /// Completes when <paramref name="pid"/> (a child of this process: a restored guest) has ended, and reaps it.
    /// The reaping waitpid runs on the tracer thread between its work, never beside it: a waitpid on another thread
    /// would take the ptrace stops of a checkpoint of the same process away from the tracer.
    /// </summary>
    public Task<ExitStatus> WhenExited(int pid)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _tracer.RunBrief(pid, () =>
        {
            if (!_exitWatches.TryGetValue(pid, out var watch))
            {
                ReapedExits.Forget(pid);
                _exitWatches[pid] = watch = new TaskCompletionSource<ExitStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            return watch.Task;
        });
    }

    private void WatchExits()
    {
        foreach (var (pid, watch) in _exitWatches.ToList())
        {
            if (_frozen.Contains(pid) || _tracer.IsBusy(pid) || _released.Contains(pid)) continue;
            try
            {
                var status = Waiting.WaitPid(pid, Waiting.WNOHANG | Waiting.WALL | JobWaitOptions(pid));
                if (status.Stopped && _adopted.Contains(pid)) PassOnStop(pid, status);
                if (status.Raw == -1 || status.Stopped || status.Continued)
                {
                    ReportJobChange(pid, status);
                    continue;
                }
                _exitWatches.Remove(pid);
                _jobWatches.Remove(pid);
                _adopted.Remove(pid);
                watch.TrySetResult(ExitStatus.Of(status));
            }
            catch (SyscallException e)
            {
                _exitWatches.Remove(pid);
                _jobWatches.Remove(pid);
                _adopted.Remove(pid);
                // Reaped by a checkpoint's or a trip's own wait, which found it gone: that wait has its end.
                if (e.Error == Errno.ECHILD && ReapedExits.TryTake(pid, out var reaped))
                    watch.TrySetResult(ExitStatus.Of(reaped));
                else
                    watch.TrySetException(e);
            }
        }
    }
}
