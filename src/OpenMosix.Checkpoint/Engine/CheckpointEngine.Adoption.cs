namespace OpenMosix.Checkpoint.Engine;

/// <summary>
/// Guests adopted from an omd that died without a drain: such a copy is no longer this process's child (it went to
/// init with the dead omd's other children), so its exit status can be had only as its tracer. It is seized (leader
/// only, no options) and kept traced for the rest of its stay; the idle watch passes every signal it gets straight
/// on and lets a stop signal stop it (PTRACE_LISTEN), so it behaves as if untraced, and reaps its exit like a child's.
/// </summary>
public sealed partial class CheckpointEngine
{
    private static readonly int[] GroupStopSignals = [Signals.SIGSTOP, Signals.SIGTSTP, Signals.SIGTTIN, Signals.SIGTTOU];
    private readonly HashSet<int> _adopted = [];

    /// <summary>Traces <paramref name="pid"/> (a copy left by a dead omd) for its exit; completes when it has ended.
    /// Throws <see cref="ProcessAccessException"/> or <see cref="SyscallException"/> when it cannot be traced.</summary>
    public Task<ExitStatus> AdoptGuest(int pid)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _tracer.RunBrief(pid, () =>
        {
            Ptrace.Seize(pid, 0);
            _adopted.Add(pid);
            var watch = new TaskCompletionSource<ExitStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
            _exitWatches[pid] = watch;
            return watch.Task;
        });
    }

    /// <summary>An adopted guest stopped for its tracer: let it go on as it would untraced.</summary>
    private void PassOnStop(int pid, WaitStatus status)
    {
        try
        {
            if (status.PtraceEvent == Ptrace.EventStop)
            {
                // A group-stop (its SIGSTOP while it waited to be taken over, a job-control stop) stays one until
                // SIGCONT; any other event stop (the end of a listen) just goes on.
                if (GroupStopSignals.Contains(status.StopSignal)) Ptrace.Listen(pid);
                else Ptrace.Continue(pid);
                return;
            }
            Ptrace.Continue(pid, status.StopSignal);
        }
        catch (SyscallException)
        {
            // Killed meanwhile: its exit comes next.
        }
    }
}
