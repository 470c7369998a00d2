namespace OpenMosix.Checkpoint.Tracing;

/// <summary>
/// Processes in a group-stop (^Z, SIGSTOP: state T). Seized, such a process reports the stop's signal in its event
/// stops instead of SIGTRAP, and it runs the calls injected into it like any stopped tracee; let go, it is stopped
/// again by the kernel, still in its group-stop (no new notification to its parent). Its image records the signal
/// (<see cref="Image.SignalState.StoppedBy"/>) and the restored process is put into the same group-stop before it is
/// let go (<see cref="Enter"/>), so a moved, checkpointed or restarted process stays stopped until SIGCONT.
/// </summary>
internal static class GroupStop
{
    public static bool IsStopSignal(int signal) =>
        signal is Signals.SIGSTOP or Signals.SIGTSTP or Signals.SIGTTIN or Signals.SIGTTOU;

    /// <summary>
    /// Puts <paramref name="pid"/> (traced, stopped, its registers and mask those it is to run with) into a group-stop
    /// by <paramref name="signal"/>, still traced: let go, it stays stopped. Nothing of the program runs on the way:
    /// every other signal is blocked while the stop signal is delivered, and its mask is put back after. Returns the
    /// signal it stopped by: a terminal stop signal, which the kernel discards in an orphaned process group (a copy
    /// leads a session of its own on its node), is replaced by SIGSTOP there.
    /// </summary>
    public static int Enter(int pid, int signal)
    {
        if (signal != Signals.SIGSTOP && IsOrphaned(pid)) signal = Signals.SIGSTOP;
        var mask = Ptrace.GetSignalMask(pid);
        Ptrace.SetSignalMask(pid, ~(1UL << (signal - 1)));
        Signals.Kill(pid, signal);
        Ptrace.Continue(pid);
        var delivered = false;
        while (true)
        {
            var status = Waiting.WaitPid(pid);
            if (!status.Stopped) throw new TraceeGoneException(pid, status);
            if (status.PtraceEvent == Ptrace.EventStop)
            {
                // The group-stop's own trap once the signal went through; before that, a trap still pending (an
                // interrupt, or the group-stop the process was in while it was rebuilt: a deputy stopped with its copy).
                if (delivered && IsStopSignal(status.StopSignal)) break;
                Ptrace.Continue(pid);
                continue;
            }
            if (status.StopSignal != signal || delivered)
                throw new InjectionException($"process {pid} stopped by signal {status.StopSignal} on its way into its group-stop by signal {signal}");
            delivered = true;
            Ptrace.Continue(pid, signal);
        }
        Ptrace.SetSignalMask(pid, mask);
        return signal;
    }

    /// <summary>
    /// Whether the process group of <paramref name="pid"/> is orphaned as the kernel sees it: no member has a parent in
    /// another group of the same session (init does not count).
    /// </summary>
    private static bool IsOrphaned(int pid)
    {
        var own = ProcFs.ReadStat(pid);
        foreach (var member in ProcessTable.Pids())
        {
            try
            {
                var stat = ProcFs.ReadStat(member);
                if (stat.ProcessGroup != own.ProcessGroup || stat.State is 'Z' or 'X' || stat.PPid <= 1) continue;
                var parent = ProcFs.ReadStat(stat.PPid);
                if (parent.ProcessGroup != own.ProcessGroup && parent.Session == own.Session) return false;
            }
            catch (ProcessAccessException)
            {
                // gone while we looked
            }
        }
        return true;
    }
}
