using Microsoft.Win32.SafeHandles;
using OpenMosix.Daemon.Migration.Protocol;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Daemon.Migration.Guest;

/// <summary>
/// Where a signal relayed from the deputy lands on the copy's node. The copy leads a session of its own whose
/// controlling terminal is its pseudo-terminal; the signals a terminal sends (^C, ^\, ^Z at home reach the deputy,
/// in home's foreground group) go to that terminal's foreground group here, as the kernel would send them: a moved
/// shell's foreground job gets them, not the shell. The same signals sent by a process (`kill -INT` of the deputy)
/// go to the copy itself, as they would have at home. A copy without a keeper in its group (no terminal, so no
/// stand-in session; SessionHolder) is in an orphaned group here, where the kernel discards a terminal stop signal
/// (SIGTSTP, SIGTTIN, SIGTTOU) that would stop it by default: the copy is stopped with SIGSTOP as well, which a stop at
/// home would have done (with a keeper it is already stopped by the signal itself).
/// </summary>
internal static class CopySignals
{
    private static readonly int[] FromTerminal = [Signals.SIGINT, Signals.SIGQUIT, Signals.SIGTSTP];
    private static readonly int[] TerminalStops = [Signals.SIGTSTP, Signals.SIGTTIN, Signals.SIGTTOU];

    /// <summary>
    /// Delivers <paramref name="signal"/> to the copy or its terminal's foreground group. A resize at home gives the
    /// copy's pseudo-terminal (<paramref name="master"/>) the new size first; <paramref name="terminal"/> is the
    /// terminal whose foreground group terminal signals go to (the master, or the copy's stdin where that is a
    /// terminal), null when the copy has none.
    /// </summary>
    public static void Deliver(int copy, ForwardSignal signal, SafeFileHandle? master, SafeFileHandle? terminal)
    {
        var number = signal.Signal;
        if (signal.TerminalSize is { } size && master is not null)
        {
            Terminal.WriteSize(master, size);
            // When that terminal is the copy's controlling terminal, the kernel has just sent SIGWINCH to its
            // foreground group, as home's kernel did: one more would be a second signal for one resize. A SIGWINCH a
            // process sent (kill -WINCH) is the copy's still.
            if (number == Signals.SIGWINCH && !signal.FromProcess && Terminal.ForegroundGroup(master) > 0) return;
        }
        var group = terminal is not null && !signal.FromProcess && FromTerminal.Contains(number) ? Terminal.ForegroundGroup(terminal) : 0;
        var target = group > 0 ? -group : copy;
        Signals.Kill(target, number);
        if ((group <= 0 || group == copy) && StopsByDefault(copy, number)) Signals.Kill(target, Signals.SIGSTOP);
    }

    /// <summary>Whether <paramref name="signal"/> from home leaves the copy stopped (true), running (false, SIGCONT), or
    /// as it was (null).</summary>
    public static bool? StateAfter(int copy, int signal)
    {
        if (signal == Signals.SIGCONT) return false;
        if (signal == Signals.SIGSTOP) return true;
        try
        {
            return StopsByDefault(copy, signal) ? true : null;
        }
        catch (Exception e) when (e is IOException or ProcessAccessException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    private static bool StopsByDefault(int copy, int signal)
    {
        if (!TerminalStops.Contains(signal)) return false;
        var status = ProcFs.ReadStatus(copy);
        var bit = 1UL << (signal - 1);
        return ((status.SigIgn | status.SigCgt) & bit) == 0;
    }
}
