namespace OpenMosix.Checkpoint.Tracing;

/// <summary>
/// Runs system calls inside a stopped tracee: point rip at an existing `syscall` instruction, load the number and
/// arguments, and step its entry and exit stops (PTRACE_O_TRACESYSGOOD). orig_rax is always -1 on the register set
/// written, so the kernel never mistakes the injection for a syscall to restart. Nothing is written into the code.
/// </summary>
internal sealed class SyscallInjector(int pid, ulong syscallInstruction, UserRegs template)
{
    private UserRegs _template = template;

    public int Pid { get; } = pid;
    public ulong SyscallInstruction { get; set; } = syscallInstruction;
    /// <summary>The thread or process the last injected clone created (reported by its PTRACE_EVENT_CLONE or _FORK stop).</summary>
    public int LastCloned { get; private set; }

    /// <summary>
    /// The same injector with a stack pointer of 0 in its calls: a call that depends on where the thread's stack is
    /// (sigaltstack refuses to change the stack a thread runs on) then never finds it inside the stack it sets.
    /// </summary>
    public SyscallInjector WithoutStack()
    {
        var regs = _template;
        regs.rsp = 0;
        return new SyscallInjector(Pid, SyscallInstruction, regs);
    }

    /// <summary>Runs the call and returns its raw result (negative errno on failure).</summary>
    public long Raw(long number, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0, long a5 = 0, long a6 = 0)
    {
        var regs = _template;
        regs.rip = SyscallInstruction;
        regs.rax = (ulong)number;
        regs.orig_rax = ulong.MaxValue;
        regs.rdi = (ulong)a1;
        regs.rsi = (ulong)a2;
        regs.rdx = (ulong)a3;
        regs.r10 = (ulong)a4;
        regs.r8 = (ulong)a5;
        regs.r9 = (ulong)a6;
        Ptrace.SetRegs(Pid, regs);
        var passOn = 0;
        for (var phase = 0; phase < 2; phase++)
        {
            Ptrace.Syscall(Pid, passOn);
            passOn = 0;
            var status = Waiting.WaitPid(Pid);
            if (!status.Stopped) throw new TraceeGoneException(Pid, status);
            // A PTRACE_INTERRUPT that was still pending surfaces as an event stop: not this call's business. In a
            // process in a group-stop (^Z, SIGSTOP) that trap reports the stop signal instead of SIGTRAP (the seize of
            // a stopped process traps it once, the freeze's interrupt once more, at the first resume): the same.
            if (status.PtraceEvent == Ptrace.EventStop && (status.StopSignal == Signals.SIGTRAP || GroupStop.IsStopSignal(status.StopSignal)))
            {
                phase--;
                continue;
            }
            // An injected clone of a thread, with PTRACE_O_TRACECLONE (or of a process, PTRACE_O_TRACEFORK): the new
            // thread's or process's id, between entry and exit.
            if (status.PtraceEvent is Ptrace.EventClone or Ptrace.EventFork)
            {
                LastCloned = (int)Ptrace.GetEventMessage(Pid);
                phase--;
                continue;
            }
            // A SIGSTOP sent meanwhile (it cannot be blocked): out of the way for the call, sent again on release.
            if (status.PtraceEvent == 0 && status.StopSignal == Signals.SIGSTOP)
            {
                HeldStops.Note(Pid);
                phase--;
                continue;
            }
            // Any other signal, one the thread did not block (a deputy parked with every signal open, stopped for work
            // while a SIGTSTP or SIGUSR1 came): not this call's business either, and neither lost nor a failure. Every
            // signal is blocked now and this one passed on from its delivery-stop: the kernel puts a signal a tracer
            // passes on that is blocked by then back into the queue it came from (the thread's or the process's), its
            // siginfo whole. It waits there like any blocked signal and is delivered once the thread runs with a mask of
            // its own again (a second instance of a real-time signal already queued then comes before it).
            if (status.PtraceEvent == 0 && status.StopSignal is > 0 and <= 64)
            {
                Ptrace.SetSignalMask(Pid, ulong.MaxValue);
                passOn = status.StopSignal;
                phase--;
                continue;
            }
            if (status.StopSignal != (Signals.SIGTRAP | 0x80))
                throw new InjectionException($"injected syscall {number} in process {Pid}: unexpected stop ({status})");
        }
        return (long)Ptrace.GetRegs(Pid).rax;
    }

    /// <summary>Runs the call and throws <see cref="InjectionException"/> with <paramref name="what"/> on failure.</summary>
    public long Call(string what, long number, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0, long a5 = 0, long a6 = 0)
    {
        var r = Raw(number, a1, a2, a3, a4, a5, a6);
        if (r < 0 && r > -4096) throw new InjectionException($"{what} in process {Pid} failed: {Errno.FromNegated(r).Name()}", Errno.FromNegated(r));
        return r;
    }
}

/// <summary>A system call run inside the tracee failed.</summary>
public sealed class InjectionException(string message, Errno error = 0) : Exception(message)
{
    public Errno Error { get; } = error;
}
