namespace OpenMosix.Checkpoint.CantMove;

/// <summary>
/// What one thread of a process may hold apart from the rest, which a restore cannot give back: every thread is
/// recreated sharing the main thread's descriptor table, working directory and namespaces (clone3 with CLONE_FILES
/// and CLONE_FS), so a thread that made its own with unshare or setns would silently lose them. Also a thread traced
/// by someone else. Read from /proc and kcmp only: the process is not touched.
/// </summary>
internal static class ThreadReasons
{
    public static void Add(int pid, IReadOnlyList<int> tids, List<string> reasons)
    {
        foreach (var tid in tids)
        {
            if (tid == pid) continue;
            try
            {
                AddFor(pid, tid, reasons);
            }
            catch (Exception e) when (e is ProcessAccessException or SyscallException { Error: Errno.ESRCH })
            {
                // the thread ended while we looked
            }
            catch (SyscallException e) when (e.Error is Errno.EPERM or Errno.EACCES)
            {
                // kcmp needs the right to trace the process: a caller without it cannot checkpoint it either
            }
        }
    }

    private static void AddFor(int pid, int tid, List<string> reasons)
    {
        if (ProcStatus.Parse(ProcFs.ReadText(pid, $"task/{tid}/status")).TracerPid is var by and not 0)
            reasons.Add($"its thread {tid} is being traced by process {by}");
        foreach (var kind in PrivilegeReasons.RefusedNamespaceKinds)
            if (Namespaces.Of(tid, kind) is { } theirs && Namespaces.Of(pid, kind) is { } main && theirs != main)
                reasons.Add($"its thread {tid} runs in another {kind} namespace ({theirs}) than its main thread ({main}); a restored thread runs in the process's");
        var (descriptors, fileSystem) = TablesOnceSettled(pid, tid);
        if (!descriptors)
            reasons.Add($"its thread {tid} has a descriptor table of its own (unshare CLONE_FILES); a restored thread shares the process's");
        if (!fileSystem)
            reasons.Add($"its thread {tid} has a working directory, root and umask of its own (unshare CLONE_FS); a restored thread shares the process's");
    }

    /// <summary>
    /// A thread on its way out has already let go of its descriptor table and working directory (do_exit clears
    /// them before the thread is gone), and kcmp then finds them different from the main thread's: a difference
    /// counts only if it lasts while the thread lives on. An ending thread is gone within microseconds; the 100 ms
    /// bound is for a loaded machine. (Seen with thr_churn, whose threads end all the time.)
    /// </summary>
    private static (bool Descriptors, bool FileSystem) TablesOnceSettled(int pid, int tid)
    {
        var shares = KernelObjects.SharesTables(pid, tid);
        for (var look = 0; look < 20 && !(shares.Descriptors && shares.FileSystem); look++)
        {
            Thread.Sleep(5);
            shares = KernelObjects.SharesTables(pid, tid); // ESRCH once the thread is gone: the caller drops it
        }
        return shares;
    }
}
