using OpenMosix.Checkpoint.Dump;
using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Tracing;

/// <summary>
/// Ends a frozen process in a way that no signal sent to it can be lost unseen: exit_group is injected into its main
/// thread, its exit traced (PTRACE_O_TRACEEXIT). The kernel marks the whole group exiting (SIGNAL_GROUP_EXIT, set under
/// the signal lock by do_group_exit, kernel/exit.c) before the thread reaches its exit stop, and from then on drops
/// every signal sent to any of its threads before it is queued (kernel/signal.c prepare_signal: "the process is in
/// the middle of dying, drop the signal"), while what was queued stays queued until the process is released. Read at
/// the exit stops, the queues hold every signal that ever reached the process; a SIGKILL sucks the signals away with
/// the process instead, and one sent between a read before it and the kill was lost (issue #17).
/// </summary>
internal static class TracedExit
{
    private const int OptionTraceExit = 0x40, EventExit = 6;

    /// <summary>
    /// Runs exit_group(0) in <paramref name="pid"/>, stopped and traced by this thread with <paramref name="options"/>,
    /// calls <paramref name="atExit"/> with each thread stopped at its exit (the main thread first: its PID and true;
    /// then each other thread that reaches its exit stop), and lets each finish exiting. Returns the signals dequeued
    /// before the call began (only a SIGSTOP can be: every other signal is blocked first), in order; they are taken
    /// out of the way, not delivered. Throws <see cref="InjectionException"/> with the process still stopped, its
    /// registers and mask put back, when the call could not be made.
    /// </summary>
    public static List<int> Run(int pid, IReadOnlyList<int> otherThreads, int options, Action<int, bool> atExit)
    {
        var regs = Ptrace.GetRegs(pid);
        var mask = Ptrace.GetSignalMask(pid);
        var syscall = ProcessInspector.FindSyscallInstruction(pid, ProcFs.ReadMaps(pid).Select(m => RegionBuilder.Build(pid, m)));
        if (syscall == 0) throw new InjectionException($"process {pid} has no syscall instruction to inject exit_group through");
        try
        {
            SetOptions(otherThreads, options | OptionTraceExit);
            Ptrace.SetOptions(pid, options | OptionTraceExit);
            Ptrace.SetSignalMask(pid, ulong.MaxValue);
            var call = regs;
            call.rip = syscall;
            call.rax = ExitGroup;
            call.orig_rax = ulong.MaxValue;
            call.rdi = 0;
            Ptrace.SetRegs(pid, call);
        }
        catch (SyscallException e) when (e.Error != Errno.ESRCH)
        {
            PutBack(pid, otherThreads, options, regs, mask);
            throw new InjectionException($"exit_group could not be set up in process {pid}: {e.Message}");
        }
        var dequeued = new List<int>();
        var entered = false;
        while (true)
        {
            Ptrace.Syscall(pid, 0);
            var status = Waiting.WaitPid(pid);
            if (!status.Stopped) throw new TraceeGoneException(pid, status);
            if (status.PtraceEvent == EventExit) break;
            // A PTRACE_INTERRUPT still pending, or the report of a group-stop it is in: not this call's business.
            if (status.PtraceEvent == Ptrace.EventStop) continue;
            if (status.StopSignal == (Signals.SIGTRAP | 0x80))
            {
                if (!entered)
                {
                    entered = true;
                    continue;
                }
                // Back from exit_group: refused (a seccomp filter), so the process lives on, stopped. Put back as it was.
                var result = (long)Ptrace.GetRegs(pid).rax;
                PutBack(pid, otherThreads, options, regs, mask);
                throw new InjectionException($"exit_group in process {pid} returned {result}");
            }
            // A signal met on the way to the call, before the group is marked exiting: one that cannot be blocked
            // (SIGSTOP). Taken out of the way here, as the injector does, and told to the caller: it is one the
            // process got and must not be lost.
            if (status.PtraceEvent == 0 && status.StopSignal is > 0 and <= 64)
            {
                dequeued.Add(status.StopSignal);
                continue;
            }
            PutBack(pid, otherThreads, options, regs, mask);
            throw new InjectionException($"exit_group in process {pid}: unexpected stop ({status})");
        }
        try
        {
            atExit(pid, true);
        }
        finally
        {
            Ptrace.Continue(pid);
        }
        foreach (var tid in otherThreads) FinishThread(tid, atExit);
        return dequeued;
    }

    /// <summary>An other thread, killed by the exit_group: its private queue read at its exit stop, then let go. One that
    /// ended without that stop (it was dying already) is collected all the same.</summary>
    private static void FinishThread(int tid, Action<int, bool> atExit)
    {
        try
        {
            while (Waiting.WaitPid(tid, Waiting.WALL) is { Stopped: true } status)
            {
                if (status.PtraceEvent == EventExit) atExit(tid, false);
                Ptrace.Continue(tid);
            }
        }
        catch (SyscallException)
        {
            // Collected already, or gone.
        }
    }

    /// <summary>As it was before the call, its exit no longer traced: a SIGKILL that ends it then must not leave a
    /// thread waiting at an exit stop for a tracer that waits for its end.</summary>
    private static void PutBack(int pid, IReadOnlyList<int> otherThreads, int options, in UserRegs regs, ulong mask)
    {
        Ptrace.SetRegs(pid, regs);
        Ptrace.SetSignalMask(pid, mask);
        Ptrace.SetOptions(pid, options);
        SetOptions(otherThreads, options);
    }

    private static void SetOptions(IReadOnlyList<int> threads, int options)
    {
        foreach (var tid in threads)
        {
            try
            {
                Ptrace.SetOptions(tid, options);
            }
            catch (SyscallException)
            {
                // Ended already: it has no queue left to read.
            }
        }
    }
}
