using OpenMosix.Linux.Interop;

namespace OpenMosix.Checkpoint.CantMove;

/// <summary>
/// Finds pipes whose read and write ends are both open in the process: those it can take along, since nothing
/// outside it is connected to them. Listed too: the empty pipes nobody can write to any more (<see cref="WriterlessPipes"/>),
/// which it takes along as well, rebuilt without a write end: they read end of file as at home.
/// </summary>
internal static class InternalPipes
{
    public static HashSet<string> Find(int pid, IEnumerable<(int Fd, string Target)> descriptors)
    {
        var all = descriptors as IReadOnlyList<(int Fd, string Target)> ?? [.. descriptors];
        var both = BothEnds(pid, all);
        both.UnionWith(WriterlessPipes.Find(pid, all, both));
        return both;
    }

    private static HashSet<string> BothEnds(int pid, IEnumerable<(int Fd, string Target)> descriptors)
    {
        var reads = new HashSet<string>(StringComparer.Ordinal);
        var writes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (fd, target) in descriptors)
        {
            if (!target.StartsWith("pipe:", StringComparison.Ordinal)) continue;
            if (ProcFs.ReadFdInfoIfOpen(pid, fd) is not { } info) continue; // closed meanwhile
            var mode = (OpenFlags)info.Flags & OpenFlags.AccessModeMask;
            if (mode is OpenFlags.WriteOnly or OpenFlags.ReadWrite) writes.Add(target);
            if (mode != OpenFlags.WriteOnly) reads.Add(target);
        }
        reads.IntersectWith(writes);
        return reads;
    }

    public static bool IsWriteEnd(int flags) => ((OpenFlags)flags & OpenFlags.AccessModeMask) == OpenFlags.WriteOnly;
}
