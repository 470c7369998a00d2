namespace OpenMosix.Checkpoint.Engine;

/// <summary>
/// Guests adopted from an omd that died without a drain: such a copy is no longer this process's child (it went to
/// init with the dead omd's other children), so its exit status can be had only as its tracer. It is seized (leader
/// only, no options) and kept traced for the rest of its stay; the idle watch passes every signal it gets straight
/// on and lets a stop signal stop it (PTRACE_LISTEN), so it behaves as if untraced, and reaps its exit like a child's.
/// A checkpoint or a trip of it needs a trace of its own (all its threads, its own options): the watch stops the copy
/// and lends its trace of the main thread to the freeze (<see cref="ReleaseWatch"/>, <see cref="HeldTraces"/>: the
/// freeze sets its options on it rather than seizing, and gives it back rather than detaching), and has it back as soon
/// as the copy runs on (<see cref="RetakeWatch"/>); while it is kept frozen the freeze's trace stands in for the
/// watch. The main thread is never untraced on the way, so an exit at any moment is reported to this tracer.
/// </summary>
public sealed partial class CheckpointEngine
{
    private static readonly int[] GroupStopSignals = [Signals.SIGSTOP, Signals.SIGTSTP, Signals.SIGTTIN, Signals.SIGTTOU];
    private readonly HashSet<int> _adopted = [];
    // Adopted guests whose watch's trace is lent to a checkpoint or a trip (busy or frozen meanwhile).
    private readonly HashSet<int> _released = [];
    // Adopted guests whose first group-stop as this tracer's is still to come: the one they were in when seized (the
    // keeper's SIGSTOP while a new omd was awaited, which home must not take for the user's).
    private readonly HashSet<int> _seizedStopPending = [];

    /// <summary>Traces <paramref name="pid"/> (a copy left by a dead omd) for its exit; completes when it has ended.
    /// Throws <see cref="ProcessAccessException"/> or <see cref="SyscallException"/> when it cannot be traced.</summary>
    public Task<ExitStatus> AdoptGuest(int pid)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _tracer.RunBrief(pid, () =>
        {
            Ptrace.Seize(pid, 0);
            _adopted.Add(pid);
            _seizedStopPending.Add(pid);
            // Its checkpoints and trips take it for the guest it is: its forwarding filter is omd's, not its own.
            _forwarding.Adopted(pid);
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
                // SIGCONT; any other event stop (the end of a listen: SIGCONT came) just goes on. Both are reported
                // as a parent's wait would report them (AdoptedJobChange), but for the stop it was seized in.
                var stopped = GroupStopSignals.Contains(status.StopSignal);
                if (stopped) Ptrace.Listen(pid);
                else Ptrace.Continue(pid);
                if (!_seizedStopPending.Remove(pid) || !stopped) AdoptedJobChange(pid, stopped ? status.StopSignal : 0);
                return;
            }
            Ptrace.Continue(pid, status.StopSignal);
        }
        catch (SyscallException)
        {
            // Killed meanwhile: its exit comes next.
        }
    }

    /// <summary>
    /// Lends an adopted guest's exit-watch trace to a checkpoint (tracer thread, the guest busy). It is stopped, as a
    /// freeze would stop it; a signal met on the way is passed on, and an exit met on the way ends the watch with its
    /// status (the caller then finds the process gone). Until 2026-12-06 the trace was let go here (a detach, which
    /// the freeze's seize followed), and an exit in between went to init unseen.
    /// </summary>
    private void ReleaseWatch(int pid)
    {
        if (!_adopted.Contains(pid) || _released.Contains(pid)) return;
        // The stop it was seized in, if still unseen, is this freeze's now: the next one is the user's.
        _seizedStopPending.Remove(pid);
        Ptrace.Interrupt(pid);
        WaitStatus status;
        while (true)
        {
            status = Waiting.WaitPid(pid, Waiting.WALL);
            if (!status.Stopped)
            {
                EndWatch(pid, ExitStatus.Of(status));
                throw new TraceeGoneException(pid, status);
            }
            if (status.PtraceEvent == Ptrace.EventStop) break;
            Ptrace.Continue(pid, status.StopSignal);
            Ptrace.Interrupt(pid);
        }
        if (GroupStopSignals.Contains(status.StopSignal))
        {
            // In a group-stop (a job-control stop, or SIGSTOP from outside) it is let go as before, staying stopped
            // (a lent trace is given back with PTRACE_CONT, which would let it run out of its stop; the freeze's own
            // seize finds the stop and keeps it): stopped, it cannot end in the gap but by SIGKILL.
            Ptrace.Detach(pid);
        }
        else
        {
            HeldTraces.Lend(pid);
        }
        _released.Add(pid);
    }

    /// <summary>
    /// The checkpoint or trip let the adopted guest run on (the trace given back, options cleared), or failed before
    /// it took the trace (it is let run on now): its exit watch waits for it again. One killed while frozen had its
    /// exit collected by the freeze: the watch's next wait finds it gone (ECHILD) and fails.
    /// </summary>
    private void RetakeWatch(int pid)
    {
        if (!_released.Remove(pid)) return;
        if (HeldTraces.IsLent(pid))
        {
            HeldTraces.Return(pid);
            return;
        }
        // Let go in its group-stop: seized again (it stayed stopped, unless a SIGCONT came just then).
        try
        {
            Ptrace.Seize(pid, 0);
        }
        catch (SyscallException e)
        {
            _adopted.Remove(pid);
            if (!_exitWatches.Remove(pid, out var watch)) return;
            if (ReapedExits.TryTake(pid, out var reaped))
                watch.TrySetResult(ExitStatus.Of(reaped));
            else
                watch.TrySetException(new TraceeGoneException(pid, $"process {pid} ended while its trace was let go for a checkpoint ({e.Message})"));
        }
    }

    /// <summary>Runs <paramref name="work"/> (a checkpoint or a pre-copy's set-up) with an adopted guest's watch's
    /// trace lent to it, and watches it again after unless <paramref name="work"/> left it frozen.</summary>
    private T WithWatchReleased<T>(int pid, Func<T> work)
    {
        ReleaseWatch(pid);
        try
        {
            return work();
        }
        finally
        {
            if (!_frozen.Contains(pid)) RetakeWatch(pid);
        }
    }

    /// <summary>An adopted guest killed while frozen: collected as its tracer (which hands it on to init) and its watch ended.</summary>
    private bool CollectKilledAdopted(int pid)
    {
        if (!_released.Remove(pid)) return false;
        HeldTraces.Return(pid, alive: false);
        _adopted.Remove(pid);
        try
        {
            while (Waiting.WaitPid(pid, Waiting.WALL).Stopped)
            {
                // ptrace stops may still be reported before the exit
            }
        }
        catch (SyscallException)
        {
            // Collected already.
        }
        return true;
    }

    private void EndWatch(int pid, ExitStatus status)
    {
        _adopted.Remove(pid);
        _released.Remove(pid);
        HeldTraces.Return(pid, alive: false);
        if (_exitWatches.Remove(pid, out var watch)) watch.TrySetResult(status);
    }
}
