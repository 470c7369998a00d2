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
    /// terminal's foreground group. Nothing when the image has no terminal.
    /// </summary>
    public void TakeControllingTerminal()
    {
        var fd = image.Files.Where(f => f.Kind == FileKind.Terminal).Select(f => f.Fd).DefaultIfEmpty(-1).Min();
        if (fd < 0) return;
        injector.Call("setsid", Setsid);
        injector.Call($"ioctl(TIOCSCTTY) of fd {fd}", Ioctl, fd, TIOCSCTTY, 0);
    }
}
