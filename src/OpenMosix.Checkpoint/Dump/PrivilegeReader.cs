using OpenMosix.Checkpoint.CantMove;
using static OpenMosix.Checkpoint.Tracing.SyscallNumbers;

namespace OpenMosix.Checkpoint.Dump;

/// <summary>
/// Reads what a stopped thread may do beyond its ids: capability sets and no_new_privs from its /proc status,
/// securebits by a prctl injected into it, seccomp filters with PTRACE_SECCOMP_GET_FILTER.
/// </summary>
internal static class PrivilegeReader
{
    private const ushort BpfRetK = 0x06;
    private const uint SeccompRetActionFull = 0xffff0000, SeccompRetUserNotif = 0x7fc00000;

    /// <summary>
    /// The ptrace options a process must be seized with beyond the usual ones: with seccomp filters, their suspension,
    /// so that no call injected into it is filtered (a filter that kills on mmap would kill it during its checkpoint).
    /// </summary>
    public static int SeizeOptions(int pid)
    {
        foreach (var tid in ProcFs.ReadTasks(pid))
        {
            try
            {
                if (TaskPrivileges.Read(pid, tid).SeccompMode != 0) return Ptrace.O_SUSPEND_SECCOMP;
            }
            catch (ProcessAccessException)
            {
                // the thread ended while we looked
            }
        }
        return 0;
    }

    public static Privileges Read(int pid, int tid, SyscallInjector inThread)
    {
        var status = TaskPrivileges.Read(pid, tid);
        if (status.SeccompMode == 1)
            throw new CantMoveException(new CantMoveReport(pid, [PrivilegeReasons.StrictSeccomp(tid)]));
        var filters = status.SeccompMode == 2 ? Ptrace.GetSeccompFilters(tid) : [];
        if (filters.Any(f => NotifiesUserSpace(f.Instructions)))
            throw new CantMoveException(new CantMoveReport(pid, [$"thread {tid} has a seccomp filter that hands calls to a supervisor in user space (SECCOMP_RET_USER_NOTIF), which stays here"]));
        return new Privileges
        {
            Effective = status.Effective,
            Permitted = status.Permitted,
            Inheritable = status.Inheritable,
            Bounding = status.Bounding,
            Ambient = status.Ambient,
            Securebits = (int)inThread.Call($"prctl(PR_GET_SECUREBITS) of thread {tid}", Prctl, PrGetSecurebits),
            NoNewPrivs = status.NoNewPrivs,
            SeccompFilters = [.. filters.Select(f => new SeccompFilter(f.Instructions, f.Log))],
        };
    }

    /// <summary>Whether a filter can answer SECCOMP_RET_USER_NOTIF (a constant return of it: the only form filters use).</summary>
    private static bool NotifiesUserSpace(byte[] program)
    {
        for (var at = 0; at + Ptrace.SeccompInstructionSize <= program.Length; at += Ptrace.SeccompInstructionSize)
            if (BinaryPrimitives.ReadUInt16LittleEndian(program.AsSpan(at)) == BpfRetK
                && (BinaryPrimitives.ReadUInt32LittleEndian(program.AsSpan(at + 4)) & SeccompRetActionFull) == SeccompRetUserNotif)
                return true;
        return false;
    }
}
