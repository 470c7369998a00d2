using OpenMosix.Linux.Proc;

namespace OpenMosix.Checkpoint.CantMove;

/// <summary>
/// Finds pipes whose read and write ends are both open in the process: those it can take along, since nothing
/// outside it is connected to them.
/// </summary>
internal static class InternalPipes
{
    private const int AccessModeMask = 3, WriteOnly = 1, ReadWrite = 2;

    public static HashSet<string> Find(int pid, IEnumerable<(int Fd, string Target)> descriptors)
    {
        var reads = new HashSet<string>(StringComparer.Ordinal);
        var writes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (fd, target) in descriptors)
        {
            if (!target.StartsWith("pipe:", StringComparison.Ordinal)) continue;
            int mode;
            try
            {
                mode = ProcFs.ReadFdInfo(pid, fd).Flags & AccessModeMask;
            }
            catch (IOException)
            {
                continue; // closed meanwhile
            }
            if (mode is WriteOnly or ReadWrite) writes.Add(target);
            if (mode != WriteOnly) reads.Add(target);
        }
        reads.IntersectWith(writes);
        return reads;
    }

    public static bool IsWriteEnd(int flags) => (flags & AccessModeMask) == WriteOnly;
}
