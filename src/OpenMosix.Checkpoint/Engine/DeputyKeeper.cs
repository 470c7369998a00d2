using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Restore;
using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Engine;

/// <summary>
/// Keeps deputies: original processes whose copy runs on another node. A deputy is emptied (every mapping but a
/// one-segment trampoline and the vdso is unmapped, so it holds almost no memory), keeps its PID, parent and
/// descriptors, and waits in a `pause` loop with every signal unblocked, so each signal sent to it stops it for
/// its tracer: the keeper reports it for forwarding and suppresses it here. Stop signals also stop the deputy
/// (so a shell sees its job stopped) until SIGCONT, when the program would stop: their action is the default, or the
/// program stops itself. Everything runs on the tracer thread.
/// </summary>
internal sealed partial class DeputyKeeper(ILogger logger)
{
    private const int SigactionSize = 32;
    private const ulong ExitGroupCall = 231, ExitCall = 60;
    private const long RseqFlagUnregister = 1;
    private const int ItimervalSize = 32;
    private static readonly int[] StopSignals = [Signals.SIGSTOP, Signals.SIGTSTP, Signals.SIGTTIN, Signals.SIGTTOU];
    private readonly Dictionary<int, ulong> _trampolines = [];
    // Deputies stopped, or being stopped to follow their copy; and the SIGCONTs this omd sent each to follow its copy,
    // not yet arrived (one the kernel flushed stays listed: only a signal this omd sent is matched against the list, so
    // a stale entry costs nothing). A stop is followed by the marker of DeputyKeeper.SelfStops, never a stop signal.
    private readonly HashSet<int> _stopped = [];
    private readonly Dictionary<int, HashSet<int>> _following = [];
    // The deputy whose signal is being reported (held in its delivery-stop until the report returns), or 0.
    private int _reporting;

    public event Action<int, ArrivedSignal>? SignalArrived;
    public event Action<int, ExitStatus>? Died;

    public IReadOnlyCollection<int> All => _trampolines.Keys;

    /// <summary>Turns a frozen process (stopped after its checkpoint) into a parked, emptied deputy; the signals
    /// <paramref name="inImage"/> (queued when its image was read) are taken out of its queues.</summary>
    public void Make(int pid, IReadOnlyList<int> inImage)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Ptrace.SetSignalMask(pid, ulong.MaxValue);
        var regs = Ptrace.GetRegs(pid);
        var maps = ProcFs.ReadMaps(pid);
        var syscall = ProcessInspector.FindSyscallInstruction(pid, maps.Select(m => RegionBuilder.Build(pid, m)));
        if (syscall == 0) throw new InjectionException($"process {pid} has no syscall instruction to inject through");
        var others = EndOtherThreads(pid, syscall);
        var ended = clock.Elapsed;
        var space = new AddressSpace();
        foreach (var m in maps) space.Reserve(m.Start, m.End);
        var trampoline = space.FindFree(StubElf.TrampolineSize, 0x100000, 1UL << 46);
        if (trampoline == 0) throw new RestoreException($"no free room in process {pid} for its deputy trampoline");

        var injector = new SyscallInjector(pid, syscall, regs);
        var mapped = (ulong)injector.Call("mmap of the deputy trampoline", Mmap, (long)trampoline, (long)StubElf.TrampolineSize,
            ProtRead | ProtWrite | ProtExec, MapPrivate | MapAnonymous | MapFixedNoReplace, -1, 0);
        if (mapped != trampoline) throw new RestoreException($"the deputy trampoline landed at 0x{mapped:x}, not 0x{trampoline:x}");
        StubElf.WriteCode(pid, trampoline);
        injector.SyscallInstruction = trampoline + StubElf.SyscallOffset;
        // The kernel reads the rseq area on every return to user mode and kills the process (SIGSEGV) once it is
        // unmapped: unregister it first. The robust list and clear_child_tid are only touched at exit, tolerantly.
        if (Ptrace.GetRseqConfiguration(pid) is { AbiPointer: not 0 } rseq)
            injector.Call("rseq unregistration", Rseq, (long)rseq.AbiPointer, rseq.AbiSize, RseqFlagUnregister, rseq.Signature);
        // Interval timers live in the kernel, not in the memory given back: left running they would keep signalling
        // the deputy, and each SIGALRM would be forwarded to a copy whose own restored timer already fires.
        // The break back at its start while the heap still exists (the kernel shrinks a break only through its
        // mapping): a restore into this deputy then finds it where a fresh stub has it.
        var startBrk = ProcFs.ReadStat(pid).StartBrk;
        if (startBrk != 0) injector.Raw(Brk, (long)startBrk);
        var zero = trampoline + StubElf.DataOffset;
        ProcessMemory.Write(pid, zero, new byte[ItimervalSize]);
        for (var which = 0; which < 3; which++)
            injector.Call($"setitimer({which}, off)", Setitimer, which, (long)zero, 0);
        DropQueued(pid, injector, zero, inImage);
        foreach (var m in maps)
        {
            if (Restorer.SpecialNames.Contains(m.Name) || m.Name == "[vsyscall]") continue;
            injector.Call($"munmap of {m.Start:x}-{m.End:x}", Munmap, (long)m.Start, (long)m.Length);
        }
        _trampolines[pid] = trampoline;
        _setAside.Remove(pid);
        Park(pid, trampoline, regs);
        logger.LogInformation("Process {Pid} is a deputy now: {Mappings} mappings released in {Ms:F1} ms, its {Threads} other threads ended after {EndedMs:F1} ms",
            pid, maps.Count, clock.Elapsed.TotalMilliseconds, others, ended.TotalMilliseconds);
    }

    /// <summary>
    /// Traces again a deputy an earlier tracer left (an omd that died without a drain: the kernel let its tracees go,
    /// and the deputy went on waiting in its pause loop, untraced) and parks it as before. What a trip home had begun
    /// to build in it is unmapped. Throws when <paramref name="pid"/> holds no deputy trampoline (it is let go).
    /// </summary>
    public void Adopt(int pid)
    {
        Freezer.SeizeAndStop(pid, Ptrace.O_TRACESYSGOOD | PrivilegeReader.SeizeOptions(pid));
        var own = ProcFs.ReadMaps(pid).Where(m => !Restorer.SpecialNames.Contains(m.Name) && m.Name != "[vsyscall]").ToList();
        var trampoline = own.Where(m => m.Length == StubElf.TrampolineSize && m.Execute && m.Inode == 0).Select(m => m.Start).ToList();
        if (trampoline.Count != 1)
        {
            Ptrace.Detach(pid);
            throw new InvalidOperationException($"process {pid} is not a deputy: {trampoline.Count} trampolines among its {own.Count} mappings");
        }
        if (own.Count > 1) Repark(pid, trampoline[0]);
        else Resume(pid, trampoline[0]);
        logger.LogInformation("Process {Pid} is a deputy again, traced by this omd", pid);
    }

    /// <summary>Looks at every deputy once without blocking: signals to forward, stops, deaths.</summary>
    public void Watch()
    {
        foreach (var pid in _trampolines.Keys.ToList()) WatchOne(pid, Waiting.WNOHANG);
    }

    /// <summary>Handles the deputy's next stop or its death (waiting for one unless <paramref name="options"/> has
    /// WNOHANG); returns the stop handled, or null.</summary>
    private WaitStatus? WatchOne(int pid, int options)
    {
        WaitStatus status;
        try
        {
            status = Waiting.WaitPid(pid, options | Waiting.WALL);
        }
        catch (SyscallException e) when (e.Error == Errno.ECHILD)
        {
            _trampolines.Remove(pid);
            Died?.Invoke(pid, new ExitStatus(0, Signals.SIGKILL));
            return null;
        }
        if (status.Raw == -1) return null;
        if (!status.Stopped)
        {
            _trampolines.Remove(pid);
            Died?.Invoke(pid, ExitStatus.Of(status));
            return null;
        }
        HandleStop(pid, status);
        return status;
    }

    /// <summary>Ends the deputy with exactly <paramref name="status"/>, as its parent will see it.</summary>
    public void End(int pid, ExitStatus status)
    {
        var trampoline = Stop(pid);
        // Every signal blocked: one pending would be delivered on the first resume instead of running the call.
        Ptrace.SetSignalMask(pid, ulong.MaxValue);
        var regs = Ptrace.GetRegs(pid);
        _trampolines.Remove(pid);
        _setAside.Remove(pid);
        // Its copy has ended: a stop sent to the deputy meanwhile has nothing left to stop.
        HeldStops.Take(pid);
        _ownStops.Remove(pid);
        if (!status.Signaled)
        {
            regs.rip = trampoline + StubElf.SyscallOffset;
            regs.rax = ExitGroupCall;
            regs.orig_rax = ulong.MaxValue;
            regs.rdi = (ulong)status.Code;
            Ptrace.SetRegs(pid, regs);
            Ptrace.Detach(pid);
            return;
        }
        var signal = status.Signal;
        if (signal != Signals.SIGKILL)
        {
            // The program's own handler must not run: its copy already died of this signal elsewhere.
            var action = trampoline + StubElf.DataOffset;
            ProcessMemory.Write(pid, action, new byte[SigactionSize]);
            new SyscallInjector(pid, trampoline + StubElf.SyscallOffset, regs)
                .Call($"rt_sigaction({signal}, SIG_DFL)", RtSigaction, signal, (long)action, 0, 8);
        }
        Ptrace.SetSignalMask(pid, ulong.MaxValue & ~(1UL << (signal - 1)));
        // PTRACE_DETACH passes a signal on only from a signal-delivery-stop; this is an event stop: send it.
        Ptrace.Detach(pid);
        Signals.Kill(pid, signal);
    }

    /// <summary>
    /// Stops a parked deputy for work on it (signals that race in are reported, not delivered). Stopped, every signal
    /// is blocked: one sent to it meanwhile (a trip home waits stopped for its image) waits in its queue, where the
    /// calls injected for the work do not meet it; parked again it is reported as any, and a process rebuilt into
    /// the deputy gets it when let go. Only a SIGSTOP can meet them (<see cref="HeldStops"/>, sent again on parking).
    /// </summary>
    public ulong Stop(int pid)
    {
        if (!_trampolines.TryGetValue(pid, out var trampoline))
            throw new InvalidOperationException($"process {pid} is not a deputy");
        Ptrace.Interrupt(pid);
        while (true)
        {
            var status = Waiting.WaitPid(pid, Waiting.WALL);
            if (!status.Stopped)
            {
                _trampolines.Remove(pid);
                throw new TraceeGoneException(pid, status);
            }
            // An event stop: the interrupt (in a group-stop, an interrupt reports the same stop; it is ours now).
            if (status.PtraceEvent == Ptrace.EventStop)
            {
                Ptrace.SetSignalMask(pid, ulong.MaxValue);
                return trampoline;
            }
            // One this omd sent to follow the copy (or for a stop of its own) was acted on there: never forwarded.
            var info = SigInfo(pid);
            if (!FollowedHere(pid, status.StopSignal, info))
                Report(pid, info is null ? new ArrivedSignal(status.StopSignal) : ArrivedSignal.FromSigInfo(info));
            Ptrace.Continue(pid, 0);
            Ptrace.Interrupt(pid);
        }
    }

    /// <summary>
    /// After a failed restore into the deputy: whatever was mapped goes again, and it waits in the pause loop of
    /// <paramref name="trampoline"/> (the one the restore set up), a deputy as before.
    /// </summary>
    public void Repark(int pid, ulong trampoline)
    {
        Ptrace.SetSignalMask(pid, ulong.MaxValue);
        var regs = Ptrace.GetRegs(pid);
        var injector = new SyscallInjector(pid, trampoline + StubElf.SyscallOffset, regs);
        foreach (var m in ProcFs.ReadMaps(pid))
        {
            if (Restorer.SpecialNames.Contains(m.Name) || m.Name == "[vsyscall]") continue;
            ProcessBuilder.UnmapOutside(injector, m, trampoline);
        }
        _trampolines[pid] = trampoline;
        Park(pid, trampoline, regs);
    }

    /// <summary>
    /// Back to the pause loop of <paramref name="trampoline"/> after work on the deputy that keeps what it mapped
    /// (a trip home pre-copied into it, between rounds): a deputy still, whose signals are reported as before.
    /// </summary>
    public void Resume(int pid, ulong trampoline)
    {
        _trampolines[pid] = trampoline;
        Park(pid, trampoline, Ptrace.GetRegs(pid));
    }

    /// <summary>
    /// The copy stopped (by <paramref name="signal"/>) or went on (0) on its node, by a signal sent there: the deputy
    /// does the same, so that its parent's wait and shell see it, by a signal this omd sends it and does not forward
    /// (the copy had it already): SIGCONT, or for a stop the marker a SIGCONT pending wins over (DeputyKeeper.SelfStops). One already stopped, or running, is left so: a stop home forwarded comes back
    /// from the copy's node as the copy obeys it.
    /// </summary>
    public void FollowCopy(int pid, int signal)
    {
        if (!_trampolines.ContainsKey(pid) || (signal != 0) == _stopped.Contains(pid)) return;
        // The state wanted from now on, whatever of the earlier signals is still on its way.
        if (signal == 0)
        {
            if (!_following.TryGetValue(pid, out var pending)) _following[pid] = pending = [];
            pending.Add(Signals.SIGCONT);
            _stopped.Remove(pid);
            Signals.Kill(pid, Signals.SIGCONT);
            return;
        }
        // Not sent as a stop signal, which would discard a SIGCONT pending (one sent to the deputy here, on its way to
        // the copy, which its stop there came before: the copy would stay stopped, and the deputy with it). The marker
        // discards nothing; the SIGCONT is taken before it and forwarded, and the stop made at the marker only if no
        // SIGCONT came since (DeputyKeeper.SelfStops), as on the copy. One the deputy's actions would not stop it with
        // (those it had when it moved) is made as SIGSTOP: the copy did stop.
        StopAtMarker(pid, DeputyStop(pid, signal, null) is var stop and not 0 ? stop : Signals.SIGSTOP);
    }

    /// <summary>The deputy is no longer one (restored into, or handed back): forget it without touching it.</summary>
    public void Forget(int pid)
    {
        _trampolines.Remove(pid);
        _setAside.Remove(pid);
        _ownStops.Remove(pid);
    }

    private void HandleStop(int pid, WaitStatus status)
    {
        var signal = status.StopSignal;
        if (status.PtraceEvent == Ptrace.EventStop)
        {
            // Group-stop (a stop signal we let through): stay stopped, but hear SIGCONT. Anything else: back to pause.
            if (StopSignals.Contains(signal)) Ptrace.Listen(pid);
            else Ptrace.Continue(pid, 0);
            return;
        }
        var info = SigInfo(pid);
        if (signal == OwnStopMarker && SentByThisProcess(info))
        {
            // For the deputy's stop by its own signal (DeputyKeeper.SelfStops), unless a SIGCONT came since.
            ContinueFrom(pid, signal, TakeOwnStop(pid));
            return;
        }
        if (FollowedHere(pid, signal, info))
        {
            // A SIGCONT sent here to follow the copy: acted on, not forwarded (a stop is made at the marker).
            ContinueFrom(pid, signal, 0);
            return;
        }
        if (signal == Signals.SIGCONT) _stopped.Remove(pid);
        Report(pid, info is null ? new ArrivedSignal(signal) : ArrivedSignal.FromSigInfo(info));
        // A stop signal also stops the deputy, so the shell sees its job stopped; the rest are kept from it.
        var deputyStop = DeputyStop(pid, signal, info);
        if (deputyStop == Signals.SIGSTOP && signal != Signals.SIGSTOP)
        {
            // Its own, and caught by the action it moved with: stopped by that signal all the same (DeputyKeeper.SelfStops).
            StopByOwnSignal(pid, signal);
            return;
        }
        if (deputyStop != 0) _stopped.Add(pid);
        ContinueFrom(pid, signal, deputyStop);
    }

    /// <summary>Reports a signal for forwarding; the deputy is held in its delivery-stop meanwhile.</summary>
    private void Report(int pid, ArrivedSignal signal)
    {
        var outer = _reporting;
        _reporting = pid;
        try
        {
            SignalArrived?.Invoke(pid, signal);
        }
        finally
        {
            _reporting = outer;
        }
    }

    /// <summary>Whether this omd sent <paramref name="signal"/> (in the deputy's signal-delivery-stop, with
    /// <paramref name="info"/>) to follow the copy, or for a stop of its own: taken off the list of those on their way.</summary>
    private bool FollowedHere(int pid, int signal, byte[]? info)
    {
        if (!SentByThisProcess(info)) return false;
        if (signal != OwnStopMarker) return _following.TryGetValue(pid, out var following) && following.Remove(signal);
        // Taken by Stop: the deputy is worked on and let go running (Park), so the stop is not made.
        _ownStops.Remove(pid);
        return true;
    }

    /// <summary>Whether a kill from this process sent the signal (si_pid, after signo, errno, code and padding).</summary>
    private static bool SentByThisProcess(byte[]? info) =>
        info is not null && ArrivedSignal.FromSigInfo(info).FromProcess && BitConverter.ToInt32(info, 16) == Environment.ProcessId;

    private static ArrivedSignal Arrived(int pid, int signal) =>
        SigInfo(pid) is { } info ? ArrivedSignal.FromSigInfo(info) : new ArrivedSignal(signal);

    /// <summary>The siginfo of the signal a deputy in signal-delivery-stop stopped for; null if it cannot be read.</summary>
    private static byte[]? SigInfo(int pid)
    {
        try
        {
            return Ptrace.GetSigInfo(pid);
        }
        catch (SyscallException)
        {
            return null;
        }
    }

    /// <summary>
    /// The signal that stops the deputy as the program would be stopped, or 0. SIGSTOP always stops; another stop
    /// signal when its action is the default. One the program ignores (a shell's SIGTSTP) would not stop it, and one it
    /// catches (an editor's) runs its handler instead: in the emptied deputy that handler's code and stack are gone, so
    /// it is never delivered there (the copy runs it). But a stop signal the deputy sent itself is the copy's own
    /// kill(0, SIGTSTP), made at home: an editor's handler sends it after setting the default action back, so the
    /// program stops; the deputy's actions are the ones it had when it moved, so SIGSTOP is answered then, and the
    /// deputy is stopped by the signal itself with the default action for the stop (<see cref="StopByOwnSignal"/>).
    /// </summary>
    private static int DeputyStop(int pid, int signal, byte[]? info)
    {
        if (signal == Signals.SIGSTOP) return signal;
        if (!StopSignals.Contains(signal)) return 0;
        var status = ProcFs.ReadStatus(pid);
        if (((status.SigIgn | status.SigCgt) & (1UL << (signal - 1))) == 0) return signal;
        // si_pid, the sender, follows signo, errno and code (and padding) in a kill's siginfo.
        var selfSent = info is not null && ArrivedSignal.FromSigInfo(info).FromProcess && BitConverter.ToInt32(info, 16) == pid;
        return selfSent ? Signals.SIGSTOP : 0;
    }

    /// <summary>
    /// A deputy is one thread: every other thread runs exit() (only itself ends; its copy runs elsewhere). A thread
    /// id left free this way is what the thread gets back when the process comes home.
    /// </summary>
    /// <summary>Every thread but the main one runs exit() (its copy runs elsewhere), which frees its id; returns how many.
    /// All are let go before any is waited for: they exit side by side, and where the copy waits for their ids (one PID
    /// namespace) it gets them sooner.</summary>
    private static int EndOtherThreads(int pid, ulong syscall)
    {
        var others = ThreadGroup.OtherThreads(pid);
        foreach (var tid in others)
        {
            Ptrace.SetSignalMask(tid, ulong.MaxValue);
            var regs = Ptrace.GetRegs(tid);
            regs.rip = syscall;
            regs.rax = ExitCall;
            regs.orig_rax = ulong.MaxValue;
            regs.rdi = 0;
            Ptrace.SetRegs(tid, regs);
            Ptrace.Continue(tid);
        }
        // A stop still queued (an interrupt from the freeze) comes out first: let it go on to its exit.
        foreach (var tid in others)
            while (Waiting.WaitPid(tid, Waiting.WALL).Stopped) Ptrace.Continue(tid);
        return others.Count;
    }

    /// <summary>
    /// The signals its image holds went with the image, and its copy gets them there; reading a queue takes nothing out
    /// of it, so the frozen original still holds them, and parked, the deputy would report each for forwarding: the
    /// copy would get it twice. Each is taken out here once (rt_sigtimedwait without waiting: every signal is blocked),
    /// the oldest instance of a real-time one first; what came after the image stays, and is forwarded.
    /// </summary>
    private static void DropQueued(int pid, SyscallInjector injector, ulong data, IReadOnlyList<int> inImage)
    {
        var call = new byte[24]; // a sigset, then a zero timespec
        foreach (var signal in inImage)
        {
            if (signal is < 1 or > 64 || signal == Signals.SIGKILL || signal == Signals.SIGSTOP) continue;
            BinaryPrimitives.WriteUInt64LittleEndian(call, 1UL << (signal - 1));
            ProcessMemory.Write(pid, data, call);
            injector.Raw(RtSigtimedwait, (long)data, 0, (long)data + 8, 8);
        }
    }

    private void Park(int pid, ulong trampoline, UserRegs template)
    {
        // Let go in its pause loop, it runs, whatever stop it was in.
        _stopped.Remove(pid);
        _following.Remove(pid);
        _ownStops.Remove(pid);
        Unpark(pid, trampoline, template);
        // A SIGSTOP an injected call met: sent again, it stops the deputy and is forwarded to the copy as any.
        HeldStops.Resend(pid);
    }
}
