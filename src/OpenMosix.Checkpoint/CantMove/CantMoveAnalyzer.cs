using System.Globalization;

namespace OpenMosix.Checkpoint.CantMove;

/// <summary>
/// Everything the engine cannot rebuild in another process, found by reading /proc only: the process is not
/// touched (no ptrace), so a refusal leaves it exactly as it was.
/// </summary>
internal static class CantMoveAnalyzer
{
    /// <param name="forwarding">a migration's question: descriptors home can serve (<see cref="ForwardedDescriptors"/>)
    /// are listed in the report's <c>Forwarded</c>, not refused.</param>
    /// <param name="ownFilters">seccomp filters omd itself gave the process (its forwarding filter), which are not the process's.</param>
    /// <param name="treePipes">With a process tree's checkpoint: the pipes the tree holds both ends of (a child's
    /// pipe to its sibling travels with them), and its children travel too.</param>
    /// <param name="placeholders">a copy's forwarded numbers: placeholders of descriptors its home holds, which stand in
    /// for them when it goes home (a unix socket each, showing home's readiness), not descriptors of its own.</param>
    /// <param name="homePaths">with <paramref name="forwarding"/>: files below these are forwarded too.</param>
    /// <param name="ownTrace">the process is traced by a thread of this process on purpose (an adopted guest's exit
    /// watch, let go for the checkpoint itself): that tracer is not a reason.</param>
    public static CantMoveReport Analyze(int pid, bool forwarding = false, int ownFilters = 0, IReadOnlySet<string>? treePipes = null,
        IReadOnlySet<int>? placeholders = null, HomePaths? homePaths = null, bool ownTrace = false)
    {
        ProcFs.RequireProcess(pid);
        var reasons = new List<string>();
        var stat = ProcFs.ReadStat(pid);
        if (stat.IsKernelThread) return new CantMoveReport(pid, ["is a kernel thread"]);
        if (stat.State is 'Z' or 'X')
            return new CantMoveReport(pid, [ProcFs.ReadTasks(pid).Count > 1 ? "its main thread has exited while other threads run on" : "is a zombie (already exited)"]);
        if (pid == Environment.ProcessId) return new CantMoveReport(pid, ["is the checkpointing process itself"]);

        var status = ProcFs.ReadStatus(pid);
        if (status.TracerPid != 0 && !(ownTrace && Directory.Exists($"/proc/self/task/{status.TracerPid}"))) reasons.Add($"is being traced by process {status.TracerPid}");
        var tids = ProcFs.ReadTasks(pid);
        ThreadReasons.Add(pid, tids, reasons);
        foreach (var (tracee, tracer) in FindTracees(tids))
            reasons.Add(tracer == pid ? $"traces process {tracee}" : $"its thread {tracer} traces process {tracee}");
        // A migration leaves the children at home with the deputy, their parent there; a checkpoint to a file cannot.
        if (forwarding) reasons.AddRange(ChildrenAtHome.Reasons(pid));
        else if (treePipes is null && ChildrenReason(ProcFs.ReadChildren(pid)) is { } children) reasons.Add(children);
        PrivilegeReasons.Add(pid, reasons, ownFilters);

        SocketTable? sockets = null;
        var descriptors = ProcFs.ReadDescriptors(pid);
        var memfds = HeldMemfds.Find(pid, descriptors);
        var sharedFiles = new List<MapsEntry>();
        var sharedAnonymous = new List<MapsEntry>();
        foreach (var m in ProcFs.ReadMaps(pid))
        {
            if (SharedFileMappings.IsCandidate(m)) sharedFiles.Add(m);
            else if (SharedAnonymousMappings.IsMapping(m)) sharedAnonymous.Add(m);
            else AddMappingReason(m, reasons, memfds);
        }
        SharedFileMappings.AddReasons(pid, sharedFiles, reasons);
        SharedAnonymousMappings.AddReasons(pid, sharedAnonymous, reasons);

        var internalPipes = InternalPipes.Find(pid, descriptors);
        if (treePipes is not null) internalPipes.UnionWith(treePipes);
        var forwarded = new List<string>();
        foreach (var (fd, target) in descriptors)
        {
            if (placeholders?.Contains(fd) == true) continue;
            if (forwarding && FileStatus.TryOf($"/proc/{pid}/fd/{fd}", out var st, out _) && ForwardedDescriptors.IsForwarded(fd, target, st!.Type, internalPipes, homePaths))
            {
                forwarded.Add(ForwardedDescriptors.Describe(fd, target));
                continue;
            }
            var reason = DescriptorReason(pid, fd, target, internalPipes, ref sockets);
            if (reason is not null) reasons.Add(reason);
        }
        if (forwarded.Count > Linux.Seccomp.ForwardingFilter.MaxForwarded)
            reasons.Add($"has {forwarded.Count} descriptors to forward through home (at most {Linux.Seccomp.ForwardingFilter.MaxForwarded})");
        if (memfds.Bytes > KernelObjectReasons.MaxMemfdBytes)
            reasons.Add($"holds memfds with {memfds.Bytes >> 20} MiB of data (at most {KernelObjectReasons.MaxMemfdBytes >> 20} MiB of memfd contents travel)");

        var timers = ProcFs.ReadTimers(pid).Split('\n').Count(l => l.StartsWith("ID:", StringComparison.Ordinal));
        if (timers > 0) reasons.Add($"has {timers} POSIX timer{(timers == 1 ? "" : "s")} (timer_create)");
        return new CantMoveReport(pid, reasons) { Forwarded = forwarded };
    }

    /// <summary>A process with children cannot leave them: away from them it would get ECHILD from wait and never see
    /// their SIGCHLD (a moved child keeps its parent, since its deputy stays at home; a moved parent would not). Zombies
    /// count: their status is still to be collected.</summary>
    public static string? ChildrenReason(IReadOnlyList<int> children) => children.Count switch
    {
        0 => null,
        1 => $"has a child process ({children[0]}) that it has not waited for; it can move once the child has been waited for",
        _ => $"has {children.Count} child processes ({string.Join(", ", children.Take(5))}{(children.Count > 5 ? ", ..." : "")}) that it has not waited for; it can move once they have been waited for",
    };

    private static void AddMappingReason(MapsEntry m, List<string> reasons, HeldMemfds memfds)
    {
        var range = $"{m.Start:x}-{m.End:x}";
        if (HeldMemfds.IsMemfdMapping(m) && m.Shared)
        {
            if (!memfds.Holds(m.Device, m.Inode))
                reasons.Add($"has a shared mapping of {m.Name} at {range} but no descriptor of that memfd (only memfds the process holds open are mapped again)");
        }
        else if (m.Name.StartsWith("/SYSV", StringComparison.Ordinal))
            reasons.Add($"maps SysV shared memory at {range} (key 0x{m.Name[5..13]})");
        else if (m.Shared && m.Write)
            reasons.Add($"has a writable shared mapping at {range} ({(m.Name.Length == 0 ? "anonymous" : m.Name)})");
        else if (m.Shared && (m.Inode == 0 || m.IsDeletedFile || !m.Name.StartsWith('/')))
            reasons.Add($"has a shared mapping of {(m.Name.Length == 0 ? "anonymous memory" : m.Name)} at {range}");
    }

    private static string? DescriptorReason(int pid, int fd, string target, HashSet<string> internalPipes, ref SocketTable? sockets)
    {
        if (target.StartsWith("socket:", StringComparison.Ordinal))
        {
            sockets ??= SocketTable.Read();
            return $"fd {fd} is a {sockets.Describe(target)} ({target})";
        }
        if (target.StartsWith(KernelObjectReasons.AnonPrefix, StringComparison.Ordinal))
            return KernelObjectReasons.AnonReason(pid, fd, target);
        if (target.StartsWith("pipe:", StringComparison.Ordinal))
            return fd <= 2 || internalPipes.Contains(target) ? null
                : $"fd {fd} is a pipe ({target}) whose other end this process does not hold; only fds 0-2 may be such pipes";
        if (target.StartsWith("/memfd:", StringComparison.Ordinal) && FileStatus.TryOf($"/proc/{pid}/fd/{fd}", out var memfd, out _)
            && KernelObjectReasons.IsMemfd(target, memfd!))
            return null;
        if (target.EndsWith(" (deleted)", StringComparison.Ordinal))
            return $"fd {fd} is a deleted file ({target})";
        if (!target.StartsWith('/')) return $"fd {fd} is an unsupported kind of file ({target})";
        if (!FileStatus.TryOf($"/proc/{pid}/fd/{fd}", out var st, out _)) return null; // closed meanwhile
        return st!.Type switch
        {
            FileType.Regular or FileType.Directory => null,
            FileType.Fifo => fd <= 2 ? null : $"fd {fd} is a FIFO ({target}); only fds 0-2 may be pipes",
            FileType.CharacterDevice when DescriptorClassifier.IsTerminal(target) || DescriptorClassifier.IsSafeCharDevice(target) => null,
            FileType.CharacterDevice or FileType.BlockDevice => $"fd {fd} is a device ({target})",
            FileType.Socket => $"fd {fd} is a socket ({target})",
            _ => $"fd {fd} is an unsupported kind of file ({target})",
        };
    }

    /// <summary>Processes traced by one of <paramref name="tids"/> (a tracer is a thread: TracerPid names it), and by which.</summary>
    private static List<(int Tracee, int Tracer)> FindTracees(IReadOnlyList<int> tids)
    {
        var result = new List<(int, int)>();
        foreach (var other in ProcessTable.Pids())
        {
            if (tids.Contains(other)) continue;
            try
            {
                foreach (var line in File.ReadLines($"/proc/{other}/status"))
                {
                    if (!line.StartsWith("TracerPid:", StringComparison.Ordinal)) continue;
                    var tracer = int.Parse(line.AsSpan(10).Trim(), CultureInfo.InvariantCulture);
                    if (tracer != 0 && tids.Contains(tracer)) result.Add((other, tracer));
                    break;
                }
            }
            catch (IOException)
            {
                // gone while we looked
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return result;
    }
}
