using System.Buffers.Binary;
using OpenMosix.Linux.Proc;
using OpenMosix.Linux.Seccomp;

namespace OpenMosix.Daemon.Migration.Forwarding;

/// <summary>
/// A moved shell's group numbers. The copy leads a session of its own on this node, whose group is numbered by its PID
/// here; a shell remembers its group by the number it had at home (bash: its PID there, from its start) and gives the
/// terminal back to it after each foreground job. Where the copy kept its PID that is the same number; where it could
/// not (the PID was taken here; one PID namespace in `om lab`, where the deputy holds it), tcsetpgrp to home's number
/// would fail (EPERM: a group of another session) and the shell, its terminal's foreground group gone, would end at its
/// next read (EIO). So the filter hands every tcsetpgrp (ioctl TIOCSPGRP) here, and home's number of the copy's group
/// is turned into its number here before the kernel carries the call out. Only that one number is turned, one way:
/// getpgrp and tcgetpgrp answer this node's numbers, which agree with each other. Reads of the terminal are handed
/// here too, for home's job control (GuestForwarder.Background.cs).
/// </summary>
internal sealed partial class GuestForwarder
{
    /// <summary>The copy's process group at home (from its image); 0 when unknown, and nothing is turned.</summary>
    public int HomeGroup { get; init; }

    /// <summary>A read, a write or a change of the copy's terminal (tcsetpgrp among them), served; null for any other
    /// call (or one on a forwarded descriptor, which is never a terminal and is answered as its ioctls are).</summary>
    private Task<Outcome>? ServeTerminalCall(SeccompNotice n)
    {
        TerminalUse? use = n.Nr switch
        {
            SyscallNr.Read or SyscallNr.Readv => TerminalUse.Read,
            SyscallNr.Write or SyscallNr.Writev => TerminalUse.Write,
            SyscallNr.Ioctl when ForwardingFilter.TerminalChanges.Contains((uint)n.Args[1]) => TerminalUse.Change,
            _ => null,
        };
        if (use is not { } kind) return null;
        var fd = (int)(uint)n.Args[0];
        bool forwarded;
        lock (_open) forwarded = _open.Contains(fd);
        if (forwarded) return null;
        // A call the filter hands over on a number that is not forwarded: the copy's terminal, or what the program put
        // under that number since (or a number the filter covers, answered as forwarded numbers are).
        if (Covered(fd)) return null;
        return kind == TerminalUse.Change ? ChangeTerminalAsync(n, fd) : TerminalCheckAsync(n, fd, kind);
    }

    private async Task<Outcome> ChangeTerminalAsync(SeccompNotice n, int fd)
    {
        var outcome = await TerminalCheckAsync(n, fd, TerminalUse.Change).ConfigureAwait(false);
        // tcsetpgrp from an orphaned background group fails with ENOTTY where the others fail with EIO (tiocspgrp).
        if ((uint)n.Args[1] == ForwardingFilter.SetForegroundGroup && outcome.Result == -(long)Errno.EIO) return new(-(long)Errno.ENOTTY);
        if (outcome.Local && (uint)n.Args[1] == ForwardingFilter.SetForegroundGroup && HomeGroup > 0) TurnHomeGroup(n);
        return outcome;
    }

    /// <summary>Home's number of the copy's group in the caller's argument becomes the copy's number here, unless that
    /// number names a group of the copy's session here too.</summary>
    private void TurnHomeGroup(SeccompNotice n)
    {
        Span<byte> group = stackalloc byte[sizeof(int)];
        if (!ProcessMemory.TryRead(n.Pid, n.Args[2], group) || BinaryPrimitives.ReadInt32LittleEndian(group) != HomeGroup) return;
        try
        {
            var copy = ProcFs.ReadStat(_pid);
            if (copy.ProcessGroup == HomeGroup || SessionOf(HomeGroup) == copy.Session) return;
            BinaryPrimitives.WriteInt32LittleEndian(group, copy.ProcessGroup);
            // Written only while the call still waits: an interrupted one is made again, and turned then.
            if (SeccompListener.IsValid(_listener, n.Id)) ProcessMemory.Write(n.Pid, n.Args[2], group);
        }
        catch (Exception e) when (e is SyscallException or IOException or ProcessAccessException or UnauthorizedAccessException or FormatException)
        {
            // The copy ended, or the argument is not writable: the kernel answers the call as it was made.
        }
    }

    /// <summary>The session of process <paramref name="pid"/> here, or 0 when there is none.</summary>
    private static int SessionOf(int pid)
    {
        try
        {
            return ProcFs.ReadStat(pid).Session;
        }
        catch (Exception e) when (e is IOException or ProcessAccessException or UnauthorizedAccessException or FormatException)
        {
            return 0;
        }
    }
}
