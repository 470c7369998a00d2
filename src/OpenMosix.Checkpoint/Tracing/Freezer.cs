namespace OpenMosix.Checkpoint.Tracing;

/// <summary>PTRACE_SEIZE + PTRACE_INTERRUPT until the tracee sits in a ptrace event stop.</summary>
internal static class Freezer
{
    /// <summary>Seizes and stops <paramref name="pid"/>. Signals that race with the stop are delivered, not lost.</summary>
    /// <returns>the signal of the group-stop it is in (^Z, SIGSTOP: it stays stopped when let go), or 0.</returns>
    public static int SeizeAndStop(int pid, int options)
    {
        // Lent by its exit watch: traced and stopped already (only a running thread is lent).
        if (HeldTraces.TakeOver(pid, options)) return 0;
        try
        {
            Ptrace.Seize(pid, options);
        }
        catch (ProcessAccessException) when (ProcFs.HasEnded(pid))
        {
            // The kernel refuses to attach to a process on its way out with the same EPERM as to one traced by
            // another: say which it is.
            throw new TraceeGoneException(pid, $"process {pid} exited before it could be stopped");
        }
        try
        {
            Ptrace.Interrupt(pid);
            return WaitForEventStop(pid);
        }
        catch
        {
            try { HeldTraces.Detach(pid); } catch (SyscallException) { }
            throw;
        }
    }

    /// <summary>Waits for the event stop of a seize or an interrupt; returns its group-stop signal, or 0 (SIGTRAP).</summary>
    public static int WaitForEventStop(int pid)
    {
        while (true)
        {
            var status = Waiting.WaitPid(pid);
            if (!status.Stopped) throw new TraceeGoneException(pid, status);
            // A seized tracee's event stop reports the signal of the group-stop its process is in (seizing a stopped
            // process traps it at once, before the interrupt), SIGTRAP when there is none.
            if (status.PtraceEvent == Ptrace.EventStop) return GroupStop.IsStopSignal(status.StopSignal) ? status.StopSignal : 0;
            // A signal-delivery-stop: pass the signal on and ask again.
            var signal = status.StopSignal;
            Ptrace.Continue(pid, signal == (Signals.SIGTRAP | 0x80) ? 0 : signal);
            Ptrace.Interrupt(pid);
        }
    }
}

/// <summary>The traced process exited or was killed while the engine worked on it.</summary>
public sealed class TraceeGoneException : Exception
{
    /// <summary>Its end, <paramref name="status"/>, was taken from the kernel by the engine's wait: it is kept for the
    /// process's exit watch (<see cref="ReapedExits"/>), since no later wait can have it.</summary>
    public TraceeGoneException(int pid, WaitStatus status)
        : base($"process {pid} {(status.Exited ? $"exited with code {status.ExitCode}" : $"was killed by signal {status.TermSignal}")} while being traced")
    {
        Pid = pid;
        ReapedExits.Record(pid, status);
    }

    /// <summary>Found gone by a request answered with ESRCH, its end already handed to its parent.</summary>
    public TraceeGoneException(int pid, string message)
        : base(message) =>
        Pid = pid;

    public int Pid { get; }
}
