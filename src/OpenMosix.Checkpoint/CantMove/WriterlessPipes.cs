using OpenMosix.Linux.Interop;

namespace OpenMosix.Checkpoint.CantMove;

/// <summary>
/// Finds the pipes a process holds on fd 3 and up that no process on this node holds open for writing (the process
/// itself included) and that are empty: all a read of them can ever give is end of file, so a migration takes them
/// along as a new pipe whose write end is closed (an <see cref="FileKind.InternalPipe"/> with no write end, rebuilt
/// as any internal pipe is) instead of leaving them at home and forwarding them. GNU make's "bad stdin", which it
/// dup2s onto fd 0 of each parallel job, is one: a forwarded descriptor cannot become a moved process's stdio.
/// A pipe still holding bytes stays forwarded (they must reach the reader, and a read end's buffer cannot travel
/// without taking them out of it); so does one held on fd 0-2 (relayed as stdio). The check races with a writer
/// made afterwards by opening /proc/PID/fd/N of a read end for writing: the moved process would not see its bytes
/// (accepted, docs/forwarding.md).
/// </summary>
internal static class WriterlessPipes
{
    public static HashSet<string> Find(int pid, IReadOnlyList<(int Fd, string Target)> descriptors, IReadOnlySet<string> internalPipes)
    {
        var candidates = descriptors.Where(d => d.Target.StartsWith("pipe:", StringComparison.Ordinal) && !internalPipes.Contains(d.Target))
            .GroupBy(d => d.Target, StringComparer.Ordinal)
            .Where(g => IsWriterless([.. g.Select(d => d.Fd)], writerOnNode: false, Unread(pid, g.First().Fd)))
            .Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
        if (candidates.Count > 0) candidates.ExceptWith(PipeHolders.Held(candidates, writing: true));
        return candidates;
    }

    /// <summary>The decision: a pipe only ever reads end of file on the process's new node when it is held above
    /// stdio, nobody can write to it, and nothing is left in it to read.</summary>
    public static bool IsWriterless(IReadOnlyCollection<int> fds, bool writerOnNode, int unread) =>
        fds.Count > 0 && fds.All(fd => fd > 2) && !writerOnNode && unread == 0;

    /// <summary>Bytes unread in the pipe at fd <paramref name="fd"/> of <paramref name="pid"/>; -1 when that cannot
    /// be told (it went meanwhile), which keeps the pipe forwarded.</summary>
    private static int Unread(int pid, int fd)
    {
        try
        {
            using var process = PidFd.Open(pid);
            using var end = process.GetFd(fd);
            return PipePeek.Unread(end);
        }
        catch (Exception e) when (e is SyscallException or ProcessAccessException)
        {
            return -1;
        }
    }
}
