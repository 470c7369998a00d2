using OpenMosix.Linux.Proc;

namespace OpenMosix.Daemon.Processes;

/// <summary>
/// Whether omd may take a running process it does not manage yet (`om adopt`, `migrate` of any PID): never a kernel
/// thread, init, omd itself, a process that is exiting, one traced by someone else, one of another PID or user
/// namespace (its PIDs and ids would mean something else here), nor, for a caller who is not root, another user's.
/// Read from /proc only; the process is not touched.
/// </summary>
public static class AdoptionCheck
{
    /// <summary>Null when it may be adopted by <paramref name="callerUid"/> (0: root); else why not, in one line.</summary>
    public static string? Refusal(int pid, uint callerUid)
    {
        ProcStat stat;
        ProcStatus status;
        try
        {
            stat = ProcFs.ReadStat(pid);
            status = ProcFs.ReadStatus(pid);
        }
        catch (Exception e) when (e is ProcessAccessException or IOException or UnauthorizedAccessException or FormatException)
        {
            return $"process {pid} does not exist";
        }
        if (stat.IsKernelThread) return $"process {pid} is a kernel thread";
        if (pid == 1) return "process 1 is init";
        if (pid == Environment.ProcessId) return $"process {pid} is omd itself";
        if (stat.State is 'Z' or 'X') return $"process {pid} is exiting";
        if (callerUid != 0 && status.Uid[0] != callerUid)
            return $"process {pid} belongs to uid {status.Uid[0]}; only its owner or root may hand it to openMosix";
        if (status.TracerPid != 0 && status.TracerPid != Environment.ProcessId)
            return $"process {pid} is traced by process {status.TracerPid}";
        foreach (var kind in new[] { "pid", "user" })
            if (Namespaces.OtherThanOurs(pid, kind) is { } theirs)
                return $"process {pid} is in another {kind} namespace ({theirs})";
        return null;
    }
}
