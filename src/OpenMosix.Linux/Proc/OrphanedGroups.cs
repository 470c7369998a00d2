namespace OpenMosix.Linux.Proc;

/// <summary>
/// Whether a process group is orphaned as the kernel decides it (kernel/exit.c will_become_orphaned_pgrp): no member
/// that is alive has a parent, other than init, in another group of the same session. The kernel discards a terminal
/// stop signal (SIGTSTP, SIGTTIN, SIGTTOU) with its default action in such a group, as nobody could continue it.
/// </summary>
public static class OrphanedGroups
{
    public static bool IsOrphaned(int group, int session)
    {
        foreach (var pid in ProcessTable.Pids())
        {
            if (StatOf(pid) is not { } member || member.ProcessGroup != group || member.State is 'Z' or 'X' || member.PPid <= 1) continue;
            if (StatOf(member.PPid) is { } parent && parent.ProcessGroup != group && parent.Session == session) return false;
        }
        return true;
    }

    /// <summary>Whether the group of <paramref name="pid"/> is orphaned (false when it is gone: nothing to say).</summary>
    public static bool OfProcess(int pid) => StatOf(pid) is { } own && IsOrphaned(own.ProcessGroup, own.Session);

    private static ProcStat? StatOf(int pid)
    {
        try
        {
            return ProcFs.ReadStat(pid);
        }
        catch (Exception e) when (e is IOException or ProcessAccessException or UnauthorizedAccessException or FormatException)
        {
            return null; // gone while we looked
        }
    }
}
