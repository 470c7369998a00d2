using OpenMosix.Checkpoint.Restore;
using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Engine;

/// <summary>
/// A terminal stop signal the deputy sent itself (its copy's own kill(getpid(), SIGTSTP), made at home) while the
/// action it moved with catches that signal: `less` and editors set the default action back on the copy before such a
/// kill, so at home the program stops by that signal, and its shell says so (148 for SIGTSTP). The handler cannot run
/// in the emptied deputy, so for the stop the deputy's action for the signal is made the default one and the deputy
/// stopped by that signal (acted on, not forwarded: the copy had it); the action it moved with is put back when SIGCONT
/// continues it, so that a later ^Z is again the copy's handler's to decide. Should that fail, it stops by SIGSTOP, as
/// before. All on the tracer thread.
///
/// The stop is not sent as a new stop signal: sending one discards a SIGCONT pending (the kernel's rule for every stop
/// signal sent), and one sent after the program's own stop, while the action was being changed, was lost so (the job
/// stayed stopped; DeputyTests' self-stop test, 1 run in 10 under load). Instead this omd sends <see cref="OwnStopMarker"/>,
/// which discards nothing, and at its signal-delivery-stop makes the deputy take the stop signal in its place (ptrace
/// changes the signal being delivered). The kernel begins that stop only while its mark of a stop signal taken, left by
/// the program's own, stands: a SIGCONT since clears it, so the SIGCONT wins as at home, whichever comes first.
/// </summary>
internal sealed partial class DeputyKeeper
{
    // SIGRTMAX: real-time, so queued apart from any the program gets, and taken after every standard signal (a SIGCONT
    // pending is taken first). This omd sends it to a deputy for nothing else: from this omd it is never forwarded.
    private const int OwnStopMarker = 64;
    private const int OwnStopWaitMs = 10_000;
    // The action (struct sigaction as the kernel gave it back) each deputy stopped by its own signal moved with.
    private readonly Dictionary<int, (int Signal, byte[] Action)> _setAside = [];
    // The stop each deputy that stopped itself, or follows its copy's stop, is to make at its OwnStopMarker.
    private readonly Dictionary<int, int> _ownStops = [];

    /// <summary>In the signal-delivery-stop of <paramref name="signal"/>, the deputy's own and caught: stops it by that
    /// signal with the default action (or by SIGSTOP when the action cannot be changed); the deputy runs on until then.</summary>
    private void StopByOwnSignal(int pid, int signal)
    {
        var trampoline = _trampolines[pid];
        var sent = Signals.SIGSTOP;
        try
        {
            Ptrace.SetSignalMask(pid, ulong.MaxValue);
            var regs = Ptrace.GetRegs(pid);
            if (!_setAside.ContainsKey(pid))
            {
                try
                {
                    _setAside[pid] = (signal, SetAction(pid, trampoline, regs, signal, new byte[SigactionSize]));
                    sent = signal;
                }
                catch (InjectionException e)
                {
                    logger.LogWarning("Deputy {Pid} stops by SIGSTOP, not by its own signal {Signal}: {Error}", pid, signal, e.Message);
                }
            }
            Unpark(pid, trampoline, regs);
        }
        catch (TraceeGoneException)
        {
            return; // Killed meanwhile: the next watch finds it gone.
        }
        StopAtMarker(pid, sent);
    }

    /// <summary>Has the deputy stop by <paramref name="stop"/> when it takes <see cref="OwnStopMarker"/>, sent now, unless a
    /// SIGCONT comes first (its own stop, or its copy's it follows), and waits for that.</summary>
    private void StopAtMarker(int pid, int stop)
    {
        _ownStops[pid] = stop;
        _stopped.Add(pid);
        Signals.Kill(pid, OwnStopMarker);
        // Taken now, not left pending to the next work on the deputy (a trip home would hand it to the program): the
        // deputy runs its pause loop, so its next stop is the marker's, or that of a signal taken before it (handled
        // as ever). A group-stop meanwhile (another's SIGSTOP) leaves it pending until SIGCONT, and a deputy that does
        // not run (its cgroup frozen) must not hold up the tracer thread: HandleStop takes the marker whenever it comes.
        // Nor can one held in the stop of a signal being reported (a report's handler following its copy: tests).
        if (_reporting == pid) return;
        var deadline = Environment.TickCount64 + OwnStopWaitMs;
        while (_ownStops.ContainsKey(pid) && _trampolines.ContainsKey(pid))
        {
            var status = WatchOne(pid, Waiting.WNOHANG);
            if (status is { PtraceEvent: Ptrace.EventStop } s && StopSignals.Contains(s.StopSignal)) return;
            if (status is not null) continue;
            if (Environment.TickCount64 > deadline)
            {
                logger.LogWarning("Deputy {Pid} has not taken the signal for its own stop after {Ms} ms; it stops when it does", pid, OwnStopWaitMs);
                return;
            }
            Thread.Sleep(1);
        }
    }

    /// <summary>The stop the deputy makes at its <see cref="OwnStopMarker"/>: the one owed for its own signal, or 0 where a
    /// SIGCONT came since (or none is owed); forgotten.</summary>
    private int TakeOwnStop(int pid) => _ownStops.Remove(pid, out var stop) && _stopped.Contains(pid) ? stop : 0;

    /// <summary>Lets the deputy go on from the stop it reported for <paramref name="signal"/>, stopped by
    /// <paramref name="stop"/> (0: not stopped); SIGCONT first puts back an action set aside for a stop by its own signal.</summary>
    private void ContinueFrom(int pid, int signal, int stop)
    {
        if (signal != Signals.SIGCONT || stop != 0 || !_setAside.Remove(pid, out var aside) || !_trampolines.TryGetValue(pid, out var trampoline))
        {
            Ptrace.Continue(pid, stop);
            return;
        }
        try
        {
            Ptrace.SetSignalMask(pid, ulong.MaxValue);
            var regs = Ptrace.GetRegs(pid);
            try
            {
                SetAction(pid, trampoline, regs, aside.Signal, aside.Action);
            }
            catch (InjectionException e)
            {
                logger.LogWarning("Deputy {Pid}: the action of signal {Signal} it moved with could not be put back: {Error}", pid, aside.Signal, e.Message);
            }
            Unpark(pid, trampoline, regs);
        }
        catch (TraceeGoneException)
        {
            // Killed meanwhile: the next watch finds it gone.
        }
    }

    /// <summary>rt_sigaction(<paramref name="signal"/>, <paramref name="action"/>) in the deputy; returns the action it
    /// had.</summary>
    private static byte[] SetAction(int pid, ulong trampoline, UserRegs regs, int signal, byte[] action)
    {
        var wanted = trampoline + StubElf.DataOffset;
        var old = wanted + SigactionSize;
        ProcessMemory.Write(pid, wanted, action);
        new SyscallInjector(pid, trampoline + StubElf.SyscallOffset, regs)
            .Call($"rt_sigaction({signal})", RtSigaction, signal, (long)wanted, (long)old, 8);
        var had = new byte[SigactionSize];
        ProcessMemory.Read(pid, old, had);
        return had;
    }

    /// <summary>Back into the pause loop with every signal unblocked, as <see cref="Park"/> without forgetting what the
    /// deputy follows or is stopped by.</summary>
    private static void Unpark(int pid, ulong trampoline, UserRegs template)
    {
        var regs = template;
        regs.rip = trampoline + StubElf.EntryOffset;
        regs.orig_rax = ulong.MaxValue;
        Ptrace.SetRegs(pid, regs);
        Ptrace.SetSignalMask(pid, 0);
        Ptrace.Continue(pid, 0);
    }
}
