namespace OpenMosix.Checkpoint.CantMove;

/// <summary>
/// Limits a restore could not put back as they were, so the process is refused rather than rebuilt looser: another
/// namespace than the checkpointing process's (rebuilt here it would leave its sandbox), seccomp strict mode, and
/// seccomp filters that could not be installed again. Read from /proc only.
/// </summary>
internal static class PrivilegeReasons
{
    /// <summary>
    /// Namespaces a process is refused in when they differ from ours: its ids (user), PIDs (pid), files (mnt),
    /// network (net), SysV IPC objects (ipc) and clocks (time) would mean something else once rebuilt here, and most
    /// would widen what it can reach. uts (a host name, which differs on every node anyway) and cgroup (a view of
    /// /proc/self/cgroup) change nothing it may do, and are let through.
    /// </summary>
    private static readonly (string Kind, string Meaning)[] RefusedNamespaces =
    [
        ("user", "its user ids and capabilities"), ("pid", "its process ids"), ("mnt", "the files its paths name"),
        ("net", "its network"), ("ipc", "its SysV IPC objects"), ("time", "its clocks"),
    ];

    /// <summary>The kinds of namespace a process is refused in when they differ (a thread, when its differ from its main thread's).</summary>
    public static IEnumerable<string> RefusedNamespaceKinds => RefusedNamespaces.Select(n => n.Kind);

    /// <param name="ownFilters">filters omd gave the process itself (its forwarding filter): not the process's to keep.</param>
    public static void Add(int pid, List<string> reasons, int ownFilters = 0)
    {
        foreach (var (kind, meaning) in RefusedNamespaces)
            if (Namespaces.OtherThanOurs(pid, kind) is { } theirs)
                reasons.Add($"runs in another {kind} namespace ({theirs}) than omd's: {meaning} would mean something else once rebuilt outside it");
        var filtered = false;
        foreach (var tid in ProcFs.ReadTasks(pid))
        {
            TaskPrivileges p;
            try
            {
                p = TaskPrivileges.Read(pid, tid);
            }
            catch (ProcessAccessException)
            {
                continue; // the thread ended while we looked
            }
            var who = tid == pid ? "it" : $"its thread {tid}";
            if (p.SeccompMode == 1) reasons.Add(StrictSeccomp(tid));
            if (p.SeccompMode != 2 || p.SeccompFilters <= ownFilters) continue;
            filtered = true;
            // Filters are installed again once the thread has its own credentials back, which the kernel allows only
            // with no_new_privs or CAP_SYS_ADMIN: without either, the filter could only be installed looser (earlier).
            if (!p.NoNewPrivs && !p.HasEffective(TaskPrivileges.CapSysAdmin))
                reasons.Add($"{who} runs under seccomp filters installed with CAP_SYS_ADMIN, which it no longer has and has no no_new_privs: they could not be installed again");
        }
        if (!filtered) return;
        // Reading filters (PTRACE_SECCOMP_GET_FILTER) and suspending them (PTRACE_O_SUSPEND_SECCOMP) need CAP_SYS_ADMIN
        // and a tracer outside seccomp.
        if (!Environment.IsPrivilegedProcess)
            reasons.Add("runs under seccomp filters, which only root can read and install again");
        else if (TaskPrivileges.Read(Environment.ProcessId, Environment.ProcessId).SeccompMode != 0)
            reasons.Add("runs under seccomp filters, and omd runs under seccomp itself: the kernel lets it neither read nor suspend them");
    }

    public static string StrictSeccomp(int tid) =>
        $"thread {tid} runs in seccomp strict mode, which allows no call a checkpoint or a restore makes and cannot be entered again by a rebuilt process";
}
