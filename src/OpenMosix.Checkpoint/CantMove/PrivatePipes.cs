using System.Globalization;
using OpenMosix.Linux;
using OpenMosix.Linux.Proc;

namespace OpenMosix.Checkpoint.CantMove;

/// <summary>
/// Pipes the process holds both ends of (self-pipes): nothing outside the process can be waiting on them, so they
/// can be rebuilt as new pipes, provided they hold no unread bytes. (Another process that inherited an end, e.g. a
/// forked child, is not detected.)
/// </summary>
internal static class PrivatePipes
{
    private const int O_ACCMODE = 3, O_WRONLY = 1;

    /// <summary>Pipe inodes of which the process holds both a read end and a write end.</summary>
    public static HashSet<ulong> Find(int pid, IEnumerable<(int Fd, string Target)> descriptors)
    {
        var ends = new Dictionary<ulong, (bool Read, bool Write)>();
        foreach (var (fd, target) in descriptors)
        {
            if (Inode(target) is not { } inode) continue;
            FdInfo info;
            try
            {
                info = ProcFs.ReadFdInfo(pid, fd);
            }
            catch (ProcessAccessException) when (Signals.Exists(pid))
            {
                continue; // closed meanwhile
            }
            var seen = ends.GetValueOrDefault(inode);
            ends[inode] = (info.Flags & O_ACCMODE) == O_WRONLY ? (seen.Read, true) : (true, seen.Write);
        }
        return [.. ends.Where(e => e.Value.Read && e.Value.Write).Select(e => e.Key)];
    }

    /// <summary>Bytes waiting in the pipe behind the process's descriptor <paramref name="fd"/>.</summary>
    public static int BytesQueued(int pid, int fd)
    {
        using var pidfd = PidFd.Open(pid);
        using var copy = pidfd.GetFd(fd);
        return Descriptors.BytesQueued(copy);
    }

    public static ulong? Inode(string target) =>
        target.StartsWith("pipe:[", StringComparison.Ordinal) && target.EndsWith(']')
        && ulong.TryParse(target.AsSpan(6, target.Length - 7), NumberStyles.None, CultureInfo.InvariantCulture, out var inode) ? inode : null;
}
