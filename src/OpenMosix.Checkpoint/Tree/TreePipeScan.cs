using OpenMosix.Linux.Interop;

namespace OpenMosix.Checkpoint.Tree;

/// <summary>
/// The pipes a process tree shares, read from /proc: a pipe whose descriptors are spread over more than one process
/// of the tree, with a read end and a write end among them (<c>producer | consumer</c>, make's jobserver). Such a
/// pipe is made once on restore and given to each process at its numbers. A pipe one process holds both ends of
/// alone is its own (rebuilt with it); one with an end outside the tree is the tree's stdio, or refused. A pipe with
/// read ends only, and no writer left anywhere, is rebuilt as such (reading it gives end of file).
/// </summary>
internal static class TreePipeScan
{
    public sealed record Descriptor(string Name, TreeDescriptor End);

    /// <summary>Every pipe descriptor of <paramref name="pids"/>, in process then descriptor order.</summary>
    public static List<Descriptor> Read(IEnumerable<int> pids)
    {
        var found = new List<Descriptor>();
        foreach (var pid in pids)
        {
            List<(int Fd, string Target)> descriptors;
            try
            {
                descriptors = ProcFs.ReadDescriptors(pid);
            }
            catch (ProcessAccessException)
            {
                continue; // exited, or a zombie: it holds nothing
            }
            foreach (var (fd, target) in descriptors.OrderBy(d => d.Fd))
            {
                if (!target.StartsWith("pipe:", StringComparison.Ordinal)) continue;
                if (ProcFs.ReadFdInfoIfOpen(pid, fd) is not { } info) continue; // closed meanwhile
                var mode = (OpenFlags)info.Flags & OpenFlags.AccessModeMask;
                found.Add(new Descriptor(target, new TreeDescriptor
                {
                    Pid = pid,
                    Fd = fd,
                    Write = mode == OpenFlags.WriteOnly,
                    Flags = info.Flags & ~(int)(OpenFlags.CloseOnExec | OpenFlags.AccessModeMask),
                    CloseOnExec = info.CloseOnExec,
                }));
            }
        }
        return found;
    }

    /// <summary>The names of the pipes shared inside the tree (see the class), and of those only read ends of which
    /// are left anywhere (make's stdin for its jobs: a pipe whose writer it closed), which are rebuilt writer-less.</summary>
    public static HashSet<string> Shared(IEnumerable<Descriptor> descriptors) =>
        [.. descriptors.GroupBy(d => d.Name, StringComparer.Ordinal)
            .Where(g => (g.Select(d => d.End.Pid).Distinct().Count() > 1 && g.Any(d => d.End.Write) && g.Any(d => !d.End.Write))
                        || (g.All(d => !d.End.Write) && Widowed(g.First().End)))
            .Select(g => g.Key)];

    private static bool Widowed(TreeDescriptor readEnd)
    {
        try
        {
            using var process = PidFd.Open(readEnd.Pid);
            using var end = process.GetFd(readEnd.Fd);
            return Readiness.IsHungUp(end);
        }
        catch (Exception e) when (e is SyscallException or ProcessAccessException)
        {
            return false; // gone meanwhile: found again, or not, once frozen
        }
    }

    /// <summary>The shared pipes as the tree section records them, each with the bytes buffered in it now.</summary>
    public static List<TreePipe> Describe(List<Descriptor> descriptors)
    {
        var shared = Shared(descriptors);
        return [.. descriptors.Where(d => shared.Contains(d.Name)).GroupBy(d => d.Name, StringComparer.Ordinal).Select(g => new TreePipe
        {
            Name = g.Key,
            Contents = Peek(g.First(d => !d.End.Write).End),
            Ends = [.. g.Select(d => d.End)],
        })];
    }

    /// <summary>Every process whose pipe at a number above 2 leads outside the tree: nothing could stand in for it.</summary>
    public static List<string> Unrebuildable(List<Descriptor> descriptors)
    {
        var shared = Shared(descriptors);
        var own = descriptors.GroupBy(d => (d.Name, d.End.Pid)).Where(g => g.Any(d => d.End.Write) && g.Any(d => !d.End.Write))
            .Select(g => g.Key).ToHashSet();
        return [.. descriptors
            .Where(d => d.End.Fd > 2 && !shared.Contains(d.Name) && !own.Contains((d.Name, d.End.Pid)))
            .Select(d => $"process {d.End.Pid}: fd {d.End.Fd} is a pipe ({d.Name}) whose other end is outside the tree")];
    }

    private static byte[] Peek(TreeDescriptor readEnd)
    {
        using var process = PidFd.Open(readEnd.Pid);
        using var end = process.GetFd(readEnd.Fd);
        return PipePeek.BufferedBytes(end);
    }
}
