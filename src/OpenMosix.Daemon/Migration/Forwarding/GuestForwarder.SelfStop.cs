using OpenMosix.Linux.Proc;
using OpenMosix.Linux.Seccomp;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>
/// A terminal stop signal (SIGTSTP, SIGTTIN, SIGTTOU) the copy sends itself with the default action: `less`'s
/// kill(getpid(), SIGTSTP), raise(SIGTSTP), an editor's suspend after it set the default action back. The kernel here
/// would discard it, the copy's group being orphaned on this node (why it stays so: docs/forwarding.md); at home, under
/// a shell with job control, the process stops inside its call, which returns once it is continued. So omd stops the
/// copy with SIGSTOP while the call still waits, which interrupts it: the kernel makes it again once the copy is
/// continued, and that second call (the same thread's, the same signal) is answered 0 without stopping again. Then the
/// deputy sends the signal to itself at home (home's PID), where home's kernel stops it as the unmoved process, so its
/// shell sees the job stopped by that signal. The stop relayed back from home finds the copy stopped, and SIGCONT
/// discards it with the stop. The copy's stop here is not reported home as well (CopyJobState), unless home could not
/// be made to stop: home would then hear of one stop twice, and the second, behind a SIGCONT, would stop it again.
/// </summary>
internal sealed partial class GuestForwarder
{
    /// <summary>Home's PID of the copy (its deputy's); 0: not known, a terminal stop to itself is the kernel's here.</summary>
    public int HomePid { get; init; }

    /// <summary>Told (true) before omd stops the copy for a terminal stop it sent itself, whose stop home learns by the
    /// deputy's own (that stop must not also go home as a stop seen here: arriving after a SIGCONT from home, it would
    /// stop the deputy, and through it the copy, again); told (false) when home could not be made to stop, so that the
    /// stop here goes home as any other. The relay of the copy sets it.</summary>
    public Action<bool>? StopMadeAtHome { get; set; }

    // Threads whose call was interrupted by the stop it asked for, with its signal: the call made again is answered.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, int> _stoppedForItself = new();

    /// <summary>A terminal stop to the copy itself (kill or rt_sigqueueinfo of its PID, tgkill of its threads); null for
    /// any other call.</summary>
    private Task<Outcome>? SelfStop(SeccompNotice n, int target, int signal)
    {
        if (HomePid <= 0 || target != _pid || Array.IndexOf(ForwardingFilter.TerminalStops, signal) < 0) return null;
        // The call made again after the stop it asked for: it is done.
        if (_stoppedForItself.TryRemove(n.Pid, out var asked) && asked == signal) return Task.FromResult(new Outcome(0));
        // Ignored or caught, it does what it does here; blocked by the calling thread, it waits here (and is dropped
        // when unblocked, as before: the copy's mask is the node's to keep).
        if (!StopsByDefault(n.Pid, signal)) return Task.FromResult(Outcome.RunLocally);
        _stoppedForItself[n.Pid] = signal;
        StopMadeAtHome?.Invoke(true);
        try
        {
            Signals.Kill(_pid, Signals.SIGSTOP);
        }
        catch (SyscallException)
        {
            _stoppedForItself.TryRemove(n.Pid, out _);
            StopMadeAtHome?.Invoke(false);
            return Task.FromResult(Outcome.Interrupted); // It ended meanwhile.
        }
        _ = MakeAtHomeAsync(signal);
        // Not answered: the stop interrupted the call, which the kernel makes again once the copy is continued.
        return Task.FromResult(Outcome.Interrupted);
    }

    private async Task MakeAtHomeAsync(int signal)
    {
        try
        {
            var result = (await CallAsync(new ForwardRequest(0, ForwardOp.Kill, 0, HomePid, signal)).ConfigureAwait(false)).Result;
            if (result == HomeChildCalls.DiscardedInOrphanedGroup)
            {
                GoOnAsAtHome(signal);
                return;
            }
            if (result >= 0) return;
            _logger.LogDebug("Process {Pid}: its stop by signal {Signal} could not be made at home: {Error}", _pid, signal, Errno.FromNegated(result).Describe());
        }
        catch (Exception e)
        {
            // Nobody awaits this call: whatever it failed with is logged, not left unobserved.
            _logger.LogDebug("Process {Pid}: its stop by signal {Signal} did not reach home: {Reason}", _pid, signal, e.Message);
        }
        // Its stop here goes home as any other (or, the stay being over, nowhere).
        StopMadeAtHome?.Invoke(false);
    }

    /// <summary>
    /// Home's kernel discarded the stop (the deputy's group is orphaned there: no job control, the program started by
    /// setsid or nohup-like, or its shell gone), so the unmoved process would have run on, its kill returning 0: the
    /// copy, stopped here while it asked, is continued, and the call the kernel makes again is answered 0 as after any
    /// stop. Home, told before it stopped (<see cref="StopMadeAtHome"/>), hears of the resumption as of any here, and
    /// finds its deputy running already. A SIGCONT handler of the program runs once, as it would not at home.
    /// </summary>
    private void GoOnAsAtHome(int signal)
    {
        _logger.LogDebug("Process {Pid}: its stop by signal {Signal} is discarded at home (orphaned group): it goes on", _pid, signal);
        try
        {
            Signals.Kill(_pid, Signals.SIGCONT);
        }
        catch (SyscallException)
        {
            // It ended meanwhile.
        }
    }

    /// <summary>Whether <paramref name="signal"/> would stop the copy by its default action: neither ignored nor
    /// caught (the process's actions), nor blocked by thread <paramref name="tid"/>.</summary>
    private bool StopsByDefault(int tid, int signal)
    {
        try
        {
            var status = ProcStatus.Parse(ProcFs.ReadText(_pid, $"task/{tid}/status"));
            return ((status.SigIgn | status.SigCgt | status.SigBlk) & (1UL << (signal - 1))) == 0;
        }
        catch (Exception e) when (e is IOException or ProcessAccessException or UnauthorizedAccessException or FormatException)
        {
            return false;
        }
    }
}
