using OpenMosix.Linux.Interop;
using Microsoft.Win32.SafeHandles;
using OpenMosix.Linux.Seccomp;
using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// Forwarded descriptors on a migration target: each forwarded number is held by a placeholder, so that the program's
/// own opens never get it: one end of a unix socket pair, whose other end the restorer takes, so that whoever serves
/// the descriptor can show home's readiness on it to the program's poll, select and epoll. A seccomp filter hands the program's calls on those numbers (and on numbers
/// in the reserved range at the top of its descriptor limit, for connections accepted later) to omd.
/// </summary>
internal sealed partial class ProcessBuilder
{
    private const long SeccompFilterFlagNewListener = 8;
    private const int RlimitNofile = 7, HighestReservedTop = 65536;
    internal const int ReservedCount = 64;

    /// <summary>The first number of the range kept for descriptors forwarded after the move (accepted connections):
    /// the last <see cref="ReservedCount"/> numbers below the process's descriptor limit (at most 65536).</summary>
    internal static int ReservedFrom(ProcessImage image)
    {
        var soft = image.Attributes.Limits.Count > RlimitNofile ? image.Attributes.Limits[RlimitNofile].Soft : 1024;
        var top = (int)Math.Min(soft, (ulong)HighestReservedTop);
        return Math.Max(top - ReservedCount, 3 + ReservedCount);
    }

    /// <summary>A struct sock_fprog and its instructions in the data area, for seccomp(SECCOMP_SET_MODE_FILTER).</summary>
    private ulong PutFilterProgram(byte[] instructions)
    {
        var program = new byte[16 + instructions.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(program, (ushort)(instructions.Length / Ptrace.SeccompInstructionSize));
        BinaryPrimitives.WriteUInt64LittleEndian(program.AsSpan(8), _data + 16);
        instructions.CopyTo(program, 16);
        return Put(program);
    }

    private const int SocketpairNr = 53, AfUnix = 1, SockStream = 1;
    private readonly Dictionary<int, ForwardMirrorEnds> _forwardMirrors = [];

    /// <summary>The restorer's ends of the placeholders (<see cref="ForwardMirrorEnds"/>), by forwarded number.</summary>
    public IReadOnlyDictionary<int, ForwardMirrorEnds> ForwardMirrors => _forwardMirrors;

    private void PlaceForwardedPlaceholder(FileDescriptorRecord f)
    {
        var pair = Put(new byte[8]);
        injector.Call($"socketpair for forwarded fd {f.Fd}", SocketpairNr, AfUnix, SockStream | (long)OpenFlags.CloseOnExec, 0, (long)pair);
        Span<byte> ends = stackalloc byte[8];
        ProcessMemory.Read(pid, pair, ends);
        int placed = BinaryPrimitives.ReadInt32LittleEndian(ends), peer = BinaryPrimitives.ReadInt32LittleEndian(ends[4..]);
        using var process = PidFd.Open(pid);
        // The peer is taken first: the dup3 below may land on its number.
        var peerEnd = process.GetFd(peer);
        if (placed != f.Fd)
        {
            injector.Call($"dup3 to forwarded fd {f.Fd}", Dup3, placed, f.Fd, f.CloseOnExec ? (long)OpenFlags.CloseOnExec : 0);
            injector.Raw(Close, placed);
        }
        else if (!f.CloseOnExec)
        {
            injector.Call($"fcntl(F_SETFD) of forwarded fd {f.Fd}", Fcntl, f.Fd, 2, 0);
        }
        if (peer != f.Fd) injector.Raw(Close, peer);
        _forwardMirrors[f.Fd] = new ForwardMirrorEnds(process.GetFd(f.Fd), peerEnd);
    }

    /// <summary>
    /// Installs the forwarding filter (forwarded descriptors, and the calls about children and parent but for a signal
    /// to itself) in the main thread (threads made later inherit it) while the process still has the restorer's
    /// CAP_SYS_ADMIN, so no no_new_privs is needed, and takes its listener out of the process. With
    /// <paramref name="terminalGroups"/> a process with a terminal (its controlling terminal now) also hands over its
    /// tcsetpgrp calls, for home's number of its group (<see cref="RestoredProcess.HomeGroup"/>), and its reads of the
    /// descriptors that are its terminal, for home's job control (SIGTTIN while home's terminal has it in the background),
    /// its requests that change the terminal (SIGTTOU there), and its writes of those descriptors (SIGTTOU where home's
    /// terminal has TOSTOP at the time of the write: `stty tostop` may come at home after the move, and a filter cannot
    /// be changed once installed, so every write of the terminal costs a notification, answered here while home's
    /// terminal has the job in its foreground or has no TOSTOP).
    /// With <paramref name="socketCalls"/> it hands over its socket calls of the internet families, made at home.
    /// </summary>
    public SafeFileHandle InstallForwardingFilter(IReadOnlyCollection<int> forwarded, bool pathCalls = false, bool terminalGroups = false, bool socketCalls = false)
    {
        var terminal = terminalGroups && image.Files.Any(f => f.Kind == FileKind.Terminal);
        // The lowest few: stdio, nearly always (the filter holds at most 8).
        int[] terminalReads = terminal ? [.. image.Files.Where(f => f.Kind == FileKind.Terminal).Select(f => f.Fd).Order().Take(8)] : [];
        var at = PutFilterProgram(ForwardingFilter.Build(forwarded, ReservedFrom(image), childCalls: true, ownPid: pid, pathCalls: pathCalls,
            terminalGroups: terminal, terminalReads: terminalReads, socketCalls: socketCalls, terminalWrites: terminal));
        var listener = injector.Raw(SyscallNumbers.Seccomp, SeccompSetModeFilter, SeccompFilterFlagNewListener, (long)at);
        if (listener < 0) throw new RestoreException($"the forwarding filter cannot be installed: {Errno.FromNegated(listener).Describe()}");
        try
        {
            using var process = PidFd.Open(pid);
            return process.GetFd((int)listener);
        }
        finally
        {
            // close_range, which the filter does not list: where every number below the reserved range is taken, the
            // listener got one in it, and a close there would wait for omd, which takes the listener only once the
            // restore is done.
            injector.Raw(CloseRange, listener, listener, 0);
        }
    }
}
