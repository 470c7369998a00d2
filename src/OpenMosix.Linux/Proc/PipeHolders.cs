using OpenMosix.Linux.Interop;

namespace OpenMosix.Linux.Proc;

/// <summary>
/// Which of some pipes (by their /proc link, "pipe:[N]") processes on this node hold open, and how: every process's
/// descriptors in /proc are read. Where that cannot be told the pipe counts as held, the safe side for every caller:
/// a pipe wrongly taken for one nobody writes to would lose the bytes written to it after a move, and one wrongly
/// taken for read by the deputy alone would have its bytes read twice.
/// </summary>
public static class PipeHolders
{
    /// <summary>Those of <paramref name="pipes"/> that a process on this node, other than <paramref name="except"/>,
    /// holds open for writing (<paramref name="writing"/>) or for reading only. A process whose descriptors cannot be
    /// read, though it runs, holds every one of them.</summary>
    public static HashSet<string> Held(IReadOnlySet<string> pipes, bool writing, params int[] except)
    {
        var held = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pid in ProcessTable.Pids())
        {
            if (except.Contains(pid)) continue;
            List<(int Fd, string Target)> descriptors;
            try
            {
                descriptors = ProcFs.ReadDescriptors(pid);
            }
            catch (Exception e) when (e is ProcessAccessException or IOException or UnauthorizedAccessException)
            {
                if (Directory.Exists($"/proc/{pid}")) return [.. pipes];
                continue; // gone
            }
            foreach (var (fd, target) in descriptors)
                if (pipes.Contains(target) && !held.Contains(target) && OpenFor(pid, fd, writing)) held.Add(target);
        }
        return held;
    }

    /// <summary>Whether descriptor <paramref name="fd"/> of <paramref name="pid"/> is open for writing
    /// (<paramref name="writing"/>), or for reading only; true when that cannot be told while the process runs (the
    /// descriptor closed meanwhile, or unreadable), false once the process is gone (it holds nothing any more).</summary>
    public static bool OpenFor(int pid, int fd, bool writing)
    {
        try
        {
            var mode = (OpenFlags)ProcFs.ReadFdInfo(pid, fd).Flags & OpenFlags.AccessModeMask;
            return writing ? mode != OpenFlags.ReadOnly : mode == OpenFlags.ReadOnly;
        }
        catch (ProcessAccessException) when (!Directory.Exists($"/proc/{pid}"))
        {
            return false;
        }
        catch (Exception e) when (e is ProcessAccessException or IOException or UnauthorizedAccessException or FormatException)
        {
            return true;
        }
    }
}
