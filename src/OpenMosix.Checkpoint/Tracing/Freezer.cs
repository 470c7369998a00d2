namespace OpenMosix.Checkpoint.Tracing;

/// <summary>PTRACE_SEIZE + PTRACE_INTERRUPT until the tracee sits in a ptrace event stop.</summary>
internal static class Freezer
{
    /// <summary>Seizes and stops <paramref name="pid"/>. Signals that race with the stop are delivered, not lost.</summary>
    public static void SeizeAndStop(int pid, int options)
    {
        // Lent by its exit watch: traced and stopped already.
        if (HeldTraces.TakeOver(pid, options)) return;
        Ptrace.Seize(pid, options);
        try
        {
            Ptrace.Interrupt(pid);
            WaitForEventStop(pid);
        }
        catch
        {
            try { HeldTraces.Detach(pid); } catch (SyscallException) { }
            throw;
        }
    }

    public static void WaitForEventStop(int pid)
    {
        while (true)
        {
            var status = Waiting.WaitPid(pid);
            if (!status.Stopped) throw new TraceeGoneException(pid, status);
            if (status.PtraceEvent == Ptrace.EventStop) return;
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
