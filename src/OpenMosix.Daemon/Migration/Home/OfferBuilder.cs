using OpenMosix.Daemon.Migration.Protocol;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Daemon.Migration.Home;

/// <summary>The offer for a process at home: what the target needs to weigh it and to give it the same surroundings.</summary>
internal static class OfferBuilder
{
    public static Offer For(ManagedProcess process, ushort homeNode, Checkpoint.CantMove.HomePaths? homePaths = null, bool socketsAtHome = false)
    {
        var pid = process.Pid;
        var uname = SystemInfo.Uname();
        var (modes, size) = TerminalOf(pid);
        return new Offer(pid, (int)process.Uid, homeNode, process.Command, $"{uname.Release} {uname.Version}",
            ProcFs.ReadResidentBytes(pid), MappedFiles(pid),
            Decay: process.Decay is { } decay ? Balancing.JobOptions.Name(decay) : null,
            Hint: process.Hint == OpenMosix.Balancing.Demand.JobHint.Measured ? null : process.Hint.ToString().ToLowerInvariant(),
            TerminalModes: modes, TerminalSize: size, Owner: ProcessOwner.Of(pid))
        {
            HomePaths = homePaths is null || homePaths.IsEmpty ? null : homePaths.Prefixes,
            OpenFiles = OpenFiles(pid, homePaths),
            SocketsAtHome = socketsAtHome,
            Locked = process.Locked,
            Request = process.Request,
        };
    }

    /// <summary>The modes and size of the terminal on the process's stdio, if one of 0-2 is a terminal.</summary>
    private static (byte[]? Modes, byte[]? Size) TerminalOf(int pid)
    {
        try
        {
            using var pidfd = PidFd.Open(pid);
            foreach (var fd in new[] { 0, 1, 2 })
            {
                using var copy = pidfd.GetFd(fd);
                if (Terminal.ReadModes(copy) is { } modes) return (modes, Terminal.ReadSize(copy));
            }
        }
        catch (SyscallException)
        {
            // No such descriptor: no terminal to imitate.
        }
        return (null, null);
    }

    /// <summary>The program and the files it maps (libraries, data), as the target must find them. A file mapped shared
    /// and writable (a JVM's hsperfdata) is not one: it travels in the image and is made again at the target.</summary>
    private static List<FileFingerprint> MappedFiles(int pid)
    {
        var files = new List<FileFingerprint>();
        var maps = ProcFs.ReadMaps(pid);
        var travelling = maps.Where(m => m.Shared && m.Write).Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var path in maps.Where(m => m.IsFileBacked && !m.IsDeletedFile && !travelling.Contains(m.Name)).Select(m => m.Name).Distinct(StringComparer.Ordinal))
        {
            try
            {
                files.Add(new FileFingerprint(path, new FileInfo(path).Length));
            }
            catch (IOException)
            {
                // Gone since it was mapped: the cantmove analysis reports deleted files.
            }
        }
        return files;
    }

    /// <summary>
    /// The regular files the process holds open that a target might lack: not below the home paths (forwarded anyway),
    /// not deleted (forwarded anyway), not a memfd (travels). The target names those it lacks or has different, and
    /// they stay here (docs/forwarding.md). Null when there are none.
    /// </summary>
    internal const int MaxOpenFiles = 1024, MaxOpenFilePathBytes = 64 << 10;

    internal static List<OpenFile>? OpenFiles(int pid, Checkpoint.CantMove.HomePaths? homePaths)
    {
        List<OpenFile>? files = null;
        var pathBytes = 0;
        foreach (var (fd, target) in ProcFs.ReadDescriptors(pid))
        {
            // The offer is one control message (at most 256 KiB, mapped files included): a file past these bounds is
            // not offered, and is reopened by path on the target as before.
            if (files?.Count >= MaxOpenFiles || pathBytes > MaxOpenFilePathBytes) break;
            if (!target.StartsWith('/') || target.EndsWith(" (deleted)", StringComparison.Ordinal) || target.StartsWith("/memfd:", StringComparison.Ordinal)
                || homePaths?.Covers(target) == true)
                continue;
            if (!FileStatus.TryOf($"/proc/{pid}/fd/{fd}", out var st, out _) || st!.Type != FileType.Regular) continue;
            files ??= [];
            files.Add(new OpenFile(fd, target, st.Device, st.Inode, st.Size));
            pathBytes += System.Text.Encoding.UTF8.GetByteCount(target);
        }
        return files;
    }
}
