using OpenMosix.Linux.Interop;
using Microsoft.Win32.SafeHandles;
using OpenMosix.Linux.Seccomp;
using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Restore;

/// <summary>
/// Forwarded descriptors on a migration target: each forwarded number is held by a /dev/null placeholder, so that the
/// program's own opens never get it, and a seccomp filter hands the program's calls on those numbers (and on numbers
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

    private void PlaceForwardedPlaceholder(FileDescriptorRecord f)
    {
        var opened = injector.Call($"open of /dev/null for forwarded fd {f.Fd}", Openat, AtFdCwd, (long)PutString("/dev/null"), (long)OpenFlags.ReadWrite, 0);
        if (opened == f.Fd) return;
        injector.Call($"dup3 to forwarded fd {f.Fd}", Dup3, opened, f.Fd, f.CloseOnExec ? (long)OpenFlags.CloseOnExec : 0);
        injector.Raw(Close, opened);
    }

    /// <summary>
    /// Installs the forwarding filter (forwarded descriptors, and the calls about children and parent) in the main thread (threads made later inherit it) while the process still has
    /// the restorer's CAP_SYS_ADMIN, so no no_new_privs is needed, and takes its listener out of the process.
    /// </summary>
    public SafeFileHandle InstallForwardingFilter(IReadOnlyCollection<int> forwarded)
    {
        var at = PutFilterProgram(ForwardingFilter.Build(forwarded, ReservedFrom(image), childCalls: true));
        var listener = injector.Raw(SyscallNumbers.Seccomp, SeccompSetModeFilter, SeccompFilterFlagNewListener, (long)at);
        if (listener < 0) throw new RestoreException($"the forwarding filter cannot be installed: {Errno.FromNegated(listener).Describe()}");
        try
        {
            using var process = PidFd.Open(pid);
            return process.GetFd((int)listener);
        }
        finally
        {
            injector.Raw(Close, listener);
        }
    }
}
