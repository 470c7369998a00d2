using OpenMosix.Linux.Proc;
using OpenMosix.Linux.Seccomp;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>What a call does to the copy's terminal, as home's kernel checks it: the value is op 24's A1.</summary>
internal enum TerminalUse { Read = 0, Write = 1, Change = 2 }

/// <summary>
/// Home's job control over a moved program's reads of its terminal, its writes (where the terminal has TOSTOP), and its
/// changes of the terminal (tcsetattr, tcsetpgrp, tcflush...). The copy's terminal here has the copy's own group in its
/// foreground for good: only home's terminal knows whether the program's job is in the background there. So the filter
/// hands those calls here. While home last said its terminal has the deputy's group in the foreground, the kernel runs
/// them at once (a notification and an answer, no crossing of the link); so it does a write or change by a thread that
/// ignores or blocks SIGTTOU, as the kernel would. Otherwise home is asked, and does what its kernel does in the
/// background: for a read EIO when the reader ignores or blocks SIGTTIN, EIO when the group is orphaned, a write let
/// through when the terminal has no TOSTOP now, else SIGTTIN (a read) or SIGTTOU to the deputy's group. That signal
/// stops the deputy at home (the shell there sees its job stopped) and, relayed, the copy, which interrupts the
/// waiting call; the kernel makes it again once the job is continued, and it is asked about again then.
/// </summary>
internal sealed partial class GuestForwarder
{
    // Home's terminal notices' values: in the background with TOSTOP (or not known to lack it), and without it.
    private const int TerminalUnknown = -1, TerminalForeground = 0, TerminalBackground = 1, TerminalBackgroundWritable = 2;
    private const int StoppedCheckMs = 20, AskAgainMs = 1000;
    /// <summary>Home's answer to a write in its background when its terminal has no TOSTOP: the write runs.</summary>
    internal const long BackgroundAllowed = 2;
    private const ulong DevTty = 0x500; // /dev/tty, major 5 minor 0, as stat and /proc/PID/stat encode it

    // What home last said of its terminal. Unknown at first and again after every signal relayed to the copy: a
    // shell's bg and fg move its terminal's foreground, then send SIGCONT, and home's notice of the move may be on its
    // way still when the continued copy reads again.
    private int _homeTerminal = TerminalUnknown;

    /// <summary>A signal from home is about to reach the copy: its job may have changed places at home.</summary>
    public void TerminalMayHaveChanged() => Volatile.Write(ref _homeTerminal, TerminalUnknown);

    private void ShowHomeTerminal(bool background) => Volatile.Write(ref _homeTerminal, background ? TerminalBackground : TerminalForeground);

    /// <summary>Home's notice of its terminal: where it has the deputy's group, and in the background whether TOSTOP is
    /// set. Logged, as a test waits for the copy's node to know of a `stty tostop` typed at home.</summary>
    private void ShowHomeTerminal(short notice)
    {
        if (Interlocked.Exchange(ref _homeTerminal, notice) == notice) return;
        _logger.LogInformation("Process {Pid}: home's terminal has its job in the {Where}", _pid,
            notice switch { TerminalForeground => "foreground", TerminalBackground => "background, TOSTOP set", _ => "background, TOSTOP clear" });
    }

    private async Task<Outcome> TerminalCheckAsync(SeccompNotice n, int fd, TerminalUse use)
    {
        // What the copy forked here uses its terminal under this node's job control (the kernel's, here): only the
        // copy's own threads are in home's job.
        var known = Volatile.Read(ref _homeTerminal);
        if (known == TerminalForeground || (known == TerminalBackgroundWritable && use == TerminalUse.Write) || !Directory.Exists($"/proc/{_pid}/task/{n.Pid}") || !IsTerminal(fd))
            return Outcome.RunLocally;
        var ignored = Ignores(n.Pid, use == TerminalUse.Read ? Signals.SIGTTIN : Signals.SIGTTOU);
        // The kernel lets a write or a change through from the background when the caller ignores or blocks SIGTTOU
        // (shells do), without a look at the terminal's foreground: so does this, without asking home.
        if (ignored && use != TerminalUse.Read) return Outcome.RunLocally;
        while (true)
        {
            var reply = await CallAsync(new ForwardRequest(0, ForwardOp.BackgroundRead, 0, ignored ? 1 : 0, (long)use)).ConfigureAwait(false);
            if (reply.Result == 0)
            {
                ShowHomeTerminal(background: false);
                return Outcome.RunLocally;
            }
            // A write in the background to a terminal that has no TOSTOP (any more): written, the job still in the background.
            if (reply.Result == BackgroundAllowed) return Outcome.RunLocally;
            if (reply.Result < 0) return new(reply.Result);
            ShowHomeTerminal(background: true);
            // SIGTTIN or SIGTTOU is on its way back: the stop it brings interrupts this call. Should the job be brought
            // to the foreground first, the call runs; should neither come, home is asked again (and signals again, as
            // the kernel does for each call made in the background).
            for (var waited = 0; waited < AskAgainMs; waited += StoppedCheckMs)
            {
                await Task.Delay(StoppedCheckMs).ConfigureAwait(false);
                if (_stopped || !SeccompListener.IsValid(_listener, n.Id)) return Outcome.Interrupted;
                if (Volatile.Read(ref _homeTerminal) == TerminalForeground) return Outcome.RunLocally;
            }
        }
    }

    /// <summary>Whether the copy's <paramref name="fd"/> is its controlling terminal (or /dev/tty): another file the
    /// program put under a number the filter hands over is read as ever.</summary>
    private bool IsTerminal(int fd)
    {
        try
        {
            var device = FileStatus.Of(ProcFs.Path(_pid, $"fd/{fd}"));
            if (device.Type != FileType.CharacterDevice) return false;
            return device.RawDevice == DevTty || device.RawDevice == ProcFs.ReadStat(_pid).Number(7);
        }
        catch (Exception e) when (e is SyscallException or IOException or ProcessAccessException or UnauthorizedAccessException or FormatException)
        {
            // Not open (EBADF is the kernel's answer), or the copy is gone.
            return false;
        }
    }

    /// <summary>Whether thread <paramref name="tid"/> of the copy ignores or blocks <paramref name="signal"/>: its read
    /// in the background then fails with EIO (SIGTTIN), its write or change goes through (SIGTTOU), as the kernel's would.</summary>
    private bool Ignores(int tid, int signal)
    {
        try
        {
            var status = ProcStatus.Parse(ProcFs.ReadText(_pid, $"task/{tid}/status"));
            return ((status.SigIgn | status.SigBlk) & (1UL << (signal - 1))) != 0;
        }
        catch (Exception e) when (e is IOException or ProcessAccessException or UnauthorizedAccessException or FormatException)
        {
            return false;
        }
    }
}
