using OpenMosix.Checkpoint.Dump;
using OpenMosix.Checkpoint.Tracing;
using OpenMosix.Linux;
using OpenMosix.Linux.Proc;
using OpenMosix.TestSupport;

namespace OpenMosix.Checkpoint.Tests.Tracing;

/// <summary>
/// A signal that reaches a tracee with its mask open while calls are injected into it (issue #17: a deputy stopped for
/// its trip home, sent SIGTSTP meanwhile). Until 2026-12-07 the injected call met the signal's delivery-stop, failed
/// with "unexpected stop (stopped by signal 20 event 0)" and the trip with it. Now the signal waits in its queue, its
/// siginfo whole, and is delivered once the tracee is let go with its own mask. sleeper dies of a SIGUSR1 or SIGUSR2
/// it gets (their default action): a signal lost shows as a process that runs on.
/// </summary>
public sealed class InjectedCallSignalTests
{
    private const long Tgkill = 234, SiTkill = -6, SiUser = 0;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>sleeper, seized and stopped by this thread, and an injector into it; its mask as it had it.</summary>
    private static (ChildProcess Child, SyscallInjector Injector, UserRegs Regs) Stopped(TempDirectory dir)
    {
        var output = dir.File("out");
        var child = ChildProcess.StartToFile(TestPrograms.Locate("sleeper"), ["1000", "20"], output);
        try
        {
            Poll.Until(() => Poll.CountLines(output) >= 2, Patience, "sleeper's first lines");
            Freezer.SeizeAndStop(child.Pid, Ptrace.O_TRACESYSGOOD);
            Assert.Equal(0UL, Ptrace.GetSignalMask(child.Pid) & (1UL << (Signals.SIGUSR1 - 1) | 1UL << (Signals.SIGUSR2 - 1)));
            var regs = Ptrace.GetRegs(child.Pid);
            var at = ProcessInspector.FindSyscallInstruction(child.Pid, ProcFs.ReadMaps(child.Pid).Select(m => RegionBuilder.Build(child.Pid, m)));
            Assert.NotEqual(0UL, at);
            return (child, new SyscallInjector(child.Pid, at, regs), regs);
        }
        catch
        {
            child.Dispose();
            throw;
        }
    }

    /// <summary>The queued signals' (number, si_code, si_pid): after signo, errno, code and padding comes si_pid.</summary>
    private static List<(int, long, int)> Queued(int pid, bool shared) =>
        [.. Ptrace.PeekSignals(pid, shared).Select(i => (BitConverter.ToInt32(i, 0), (long)BitConverter.ToInt32(i, 8), BitConverter.ToInt32(i, 16)))];

    /// <summary>Its own registers and mask back, let go: it must die of <paramref name="signal"/>.</summary>
    private static void LetGoDiesOf(ChildProcess child, UserRegs regs, ulong mask, int signal)
    {
        Ptrace.SetRegs(child.Pid, regs);
        Ptrace.SetSignalMask(child.Pid, mask);
        Ptrace.Detach(child.Pid);
        Assert.Equal(new ChildExit(0, signal), child.WaitForExit(Patience));
    }

    [Fact]
    public void A_signal_a_tracee_gets_during_an_injected_call_waits_in_its_queue_whole_and_is_delivered_once_it_is_let_go()
    {
        using var dir = new TempDirectory();
        var (child, injector, regs) = Stopped(dir);
        using var _ = child;
        var mask = Ptrace.GetSignalMask(child.Pid);

        // The call itself sends it: it arrives while the call runs, and the next call's first resume meets it.
        Assert.Equal(0, injector.Call("tgkill(self, SIGUSR1)", Tgkill, child.Pid, child.Pid, Signals.SIGUSR1));
        Assert.Equal(child.Pid, injector.Call("gettid", SyscallNumbers.Gettid));
        Assert.Equal(child.Pid, injector.Call("gettid again", SyscallNumbers.Gettid));

        // In the thread's own queue still, as the kernel queued it: a tgkill from the process itself.
        Assert.Equal([(Signals.SIGUSR1, SiTkill, child.Pid)], Queued(child.Pid, shared: false));
        LetGoDiesOf(child, regs, mask, Signals.SIGUSR1);
    }

    [Fact]
    public void A_signal_sent_to_a_stopped_tracee_before_a_call_is_injected_stays_the_sender_s_and_the_process_s()
    {
        using var dir = new TempDirectory();
        var (child, injector, regs) = Stopped(dir);
        using var _ = child;
        var mask = Ptrace.GetSignalMask(child.Pid);

        // kill() from this process, queued for the whole process while the tracee sits stopped with its mask open.
        Signals.Kill(child.Pid, Signals.SIGUSR2);
        Assert.Equal(child.Pid, injector.Call("gettid", SyscallNumbers.Gettid));

        Assert.Equal([(Signals.SIGUSR2, SiUser, Environment.ProcessId)], Queued(child.Pid, shared: true));
        Assert.Empty(Queued(child.Pid, shared: false));
        LetGoDiesOf(child, regs, mask, Signals.SIGUSR2);
    }

    [Fact]
    public void A_SIGSTOP_and_another_signal_during_injected_calls_are_both_held_and_neither_fails_a_call()
    {
        using var dir = new TempDirectory();
        var (child, injector, regs) = Stopped(dir);
        using var _ = child;
        var mask = Ptrace.GetSignalMask(child.Pid);
        HeldStops.Take(child.Pid);

        Signals.Kill(child.Pid, Signals.SIGSTOP);
        Signals.Kill(child.Pid, Signals.SIGUSR1);
        Assert.Equal(child.Pid, injector.Call("gettid", SyscallNumbers.Gettid));

        // The stop, which cannot be blocked, is noted for whoever lets it go; the other waits in its queue.
        Assert.True(HeldStops.Take(child.Pid));
        Assert.Equal([(Signals.SIGUSR1, SiUser, Environment.ProcessId)], Queued(child.Pid, shared: true));
        LetGoDiesOf(child, regs, mask, Signals.SIGUSR1);
    }
}
