using System.Buffers.Binary;

namespace OpenMosix.Linux;

/// <summary>A classic BPF program a thread's seccomp runs (8 bytes per instruction), and whether it logs (SECCOMP_FILTER_FLAG_LOG).</summary>
public sealed record SeccompProgram(byte[] Instructions, bool Log);

public static partial class Ptrace
{
    private const long PTRACE_SECCOMP_GET_FILTER = 0x420c, PTRACE_SECCOMP_GET_METADATA = 0x420d;
    private const ulong SeccompFilterFlagLog = 2;
    public const int SeccompInstructionSize = 8;

    /// <summary>
    /// The seccomp filters a stopped thread runs under, oldest first (the kernel numbers them newest first), except
    /// omd's own forwarding filter (<see cref="Seccomp.ForwardingFilter"/>), which is no part of the process. Needs
    /// CAP_SYS_ADMIN and a tracer that is not under seccomp itself.
    /// </summary>
    public static unsafe List<SeccompProgram> GetSeccompFilters(int tid)
    {
        var newestFirst = new List<SeccompProgram>();
        Span<byte> metadata = stackalloc byte[16];
        for (var index = 0; ; index++)
        {
            var count = Sys.Ptrace(PTRACE_SECCOMP_GET_FILTER, tid, index, 0);
            if (count < 0 && Errno.Last == Errno.ENOENT) break;
            Check(count, "PTRACE_SECCOMP_GET_FILTER", tid);
            var program = new byte[count * SeccompInstructionSize];
            fixed (byte* p = program)
                Check(Sys.Ptrace(PTRACE_SECCOMP_GET_FILTER, tid, index, (nint)p), "PTRACE_SECCOMP_GET_FILTER", tid);
            metadata.Clear();
            BinaryPrimitives.WriteUInt64LittleEndian(metadata, (ulong)index);
            fixed (byte* m = metadata)
                Check(Sys.Ptrace(PTRACE_SECCOMP_GET_METADATA, tid, metadata.Length, (nint)m), "PTRACE_SECCOMP_GET_METADATA", tid);
            if (Seccomp.ForwardingFilter.IsForwardingFilter(program)) continue;
            newestFirst.Add(new SeccompProgram(program, (BinaryPrimitives.ReadUInt64LittleEndian(metadata[8..]) & SeccompFilterFlagLog) != 0));
        }
        newestFirst.Reverse();
        return newestFirst;
    }
}
