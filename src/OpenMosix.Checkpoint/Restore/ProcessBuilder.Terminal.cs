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
    private const long Ioctl = 16, TIOCSCTTY = 0x540E;

    /// <summary>
    /// Makes the stub the leader of a session of its own (it is no group leader: posix_spawn'd into omd's group) and
    /// gives that session the lowest terminal descriptor as its controlling terminal, which makes the stub's group the
    /// terminal's foreground group. Nothing when the image has no terminal. A failure leaves the copy as it was before
    /// (in omd's session, without a controlling terminal), which is no reason to refuse the move: it is logged.
    /// </summary>
    public void TakeControllingTerminal()
    {
        var fd = image.Files.Where(f => f.Kind == FileKind.Terminal).Select(f => f.Fd).DefaultIfEmpty(-1).Min();
        if (fd < 0) return;
        var result = injector.Raw(Setsid);
        if (result >= 0) result = injector.Raw(Ioctl, fd, TIOCSCTTY, 0);
        if (result < 0)
            logger.LogWarning("Process {Pid} keeps running without a controlling terminal: {Error}", pid, Errno.FromNegated(result).Describe());
    }
}
