using Microsoft.Win32.SafeHandles;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>
/// Where a signal relayed from the deputy lands on the copy's node. The copy leads a session of its own whose
/// controlling terminal is its pseudo-terminal; the signals a terminal sends (^C, ^\, ^Z at home reach the deputy,
/// in home's foreground group) go to that terminal's foreground group here, as the kernel would send them: a moved
/// shell's foreground job gets them, not the shell. The copy's own group has no parent in its session (its parent is
/// omd), so the kernel discards a terminal stop signal (SIGTSTP, SIGTTIN, SIGTTOU) that would stop it by default: the
/// copy is stopped with SIGSTOP instead, which a stop at home would have done.
/// </summary>
internal static class CopySignals
{
    private static readonly int[] FromTerminal = [Signals.SIGINT, Signals.SIGQUIT, Signals.SIGTSTP];
    private static readonly int[] TerminalStops = [Signals.SIGTSTP, Signals.SIGTTIN, Signals.SIGTTOU];

    public static void Deliver(int copy, int signal, SafeFileHandle? terminal)
    {
        var group = terminal is not null && FromTerminal.Contains(signal) ? Terminal.ForegroundGroup(terminal) : 0;
        var target = group > 0 ? -group : copy;
        Signals.Kill(target, signal);
        if ((group <= 0 || group == copy) && StopsByDefault(copy, signal)) Signals.Kill(target, Signals.SIGSTOP);
    }

    private static bool StopsByDefault(int copy, int signal)
    {
        if (!TerminalStops.Contains(signal)) return false;
        var status = ProcFs.ReadStatus(copy);
        var bit = 1UL << (signal - 1);
        return ((status.SigIgn | status.SigCgt) & bit) == 0;
    }
}
