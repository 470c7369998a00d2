namespace OpenMosix.Checkpoint.CantMove;

/// <summary>
/// Which descriptors on kernel objects (anon_inode: files, memfds) the engine rebuilds, and for the others, or for
/// an epoll instance whose registrations cannot be replayed, the precise reason. Shared by the analysis and the dump.
/// </summary>
internal static class KernelObjectReasons
{
    public const string AnonPrefix = "anon_inode:";
    /// <summary>Memfd contents travel in the image metadata, which is bounded; more than this is refused.</summary>
    public const long MaxMemfdBytes = 32L << 20;

    public static bool IsMemfd(string target, FileStatus st) =>
        target.StartsWith("/memfd:", StringComparison.Ordinal) && target.EndsWith(" (deleted)", StringComparison.Ordinal) && st.Type == FileType.Regular;

    /// <summary>The anon_inode name without brackets: "eventfd", "eventpoll", "inotify", ...</summary>
    public static string AnonName(string target) => target[AnonPrefix.Length..].Trim('[', ']');

    /// <summary>Why descriptor <paramref name="fd"/> on an anonymous kernel object cannot travel, or null if it can.</summary>
    public static string? AnonReason(int pid, int fd, string target)
    {
        var name = AnonName(target);
        switch (name)
        {
            case "eventfd" or "timerfd" or "signalfd":
                return null;
            case "eventpoll":
                return EpollReason(pid, fd, KernelObjectFdInfo.ParseEpoll(ProcFs.ReadText(pid, $"fdinfo/{fd}")));
            case "inotify":
                var watches = KernelObjectFdInfo.ParseInotify(ProcFs.ReadText(pid, $"fdinfo/{fd}")).Count;
                return $"fd {fd} is an inotify instance watching {watches} path{(watches == 1 ? "" : "s")} ({target}; watches are not re-added on restore)";
            default:
                return $"fd {fd} is {Describe(name)} ({target})";
        }
    }

    /// <summary>
    /// Every registration must still be reachable under its descriptor number (kcmp KCMP_EPOLL_TFD): one whose number
    /// was closed, or now names another file, cannot be replayed with epoll_ctl.
    /// </summary>
    public static string? EpollReason(int pid, int fd, IReadOnlyList<EpollRegistrationInfo> registrations)
    {
        var seen = new Dictionary<int, int>();
        foreach (var r in registrations)
        {
            var occurrence = seen.GetValueOrDefault(r.TargetFd);
            seen[r.TargetFd] = occurrence + 1;
            switch (KernelObjects.EpollTarget(pid, fd, r.TargetFd, occurrence))
            {
                case EpollTargetState.Closed:
                    return $"fd {fd} is an epoll instance watching fd {r.TargetFd}, which is closed (the watched file stays registered through a duplicate); that registration cannot be rebuilt";
                case EpollTargetState.Different:
                    return $"fd {fd} is an epoll instance watching a file registered as fd {r.TargetFd}, which now refers to another file; that registration cannot be rebuilt";
            }
        }
        return null;
    }

    public static string Describe(string anonName) => anonName switch
    {
        "eventpoll" => "an epoll instance",
        "eventfd" => "an eventfd",
        "timerfd" => "a timerfd",
        "signalfd" => "a signalfd",
        "inotify" => "an inotify instance",
        "io_uring" => "an io_uring",
        "pidfd" => "a pidfd",
        "userfaultfd" => "a userfaultfd",
        "fanotify" => "a fanotify instance",
        var other => $"a kernel object ({other})",
    };
}
