using OpenMosix.Linux.Interop;
using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// The terminal a migration target gives the copy (the slave of a pseudo-terminal relayed to home's) made its
/// controlling terminal, so that what a program asks of its terminal is answered there as at home: tcgetpgrp and
/// tcsetpgrp, TIOCGSID, open("/dev/tty"), and the kernel's own job control of the groups it makes (a shell's).
/// </summary>
internal sealed partial class ProcessBuilder
{
    private const long Ioctl = 16, TIOCSCTTY = 0x540E, TIOCSPGRP = 0x5410;

    /// <summary>Born a member of a stand-in leader's session whose controlling terminal is the copy's
    /// (<see cref="SessionHolder"/>), as a job at home is a member of its shell's.</summary>
    public bool HeldSession { get; init; }

    /// <summary>
    /// Makes the lowest terminal descriptor the copy's controlling terminal with the copy's group in its foreground.
    /// Born in a stand-in leader's session, the copy makes a group of its own (as a shell makes one for each job) and
    /// hands it the terminal (tcsetpgrp from the background is allowed: every signal is blocked in a stub); otherwise
    /// it leads a session of its own (it is no group leader: posix_spawn'd into omd's group) whose controlling
    /// terminal that descriptor becomes. Nothing when the image has no terminal. A failure leaves the copy as it was
    /// before (without its terminal's foreground), which is no reason to refuse the move: it is logged.
    /// </summary>
    public void TakeControllingTerminal()
    {
        var fd = image.Files.Where(f => f.Kind == FileKind.Terminal).Select(f => f.Fd).DefaultIfEmpty(-1).Min();
        if (fd < 0) return;
        long result;
        if (HeldSession)
        {
            result = injector.Raw(Setpgid, 0, 0);
            Span<byte> group = stackalloc byte[sizeof(int)];
            BinaryPrimitives.WriteInt32LittleEndian(group, pid);
            if (result >= 0) result = injector.Raw(Ioctl, fd, TIOCSPGRP, (long)Put(group));
        }
        else
        {
            result = injector.Raw(Setsid);
            if (result >= 0) result = injector.Raw(Ioctl, fd, TIOCSCTTY, 0);
        }
        if (result < 0)
            logger.LogWarning("Process {Pid} keeps running without its terminal's foreground: {Error}", pid, Errno.FromNegated(result).Describe());
    }
}
