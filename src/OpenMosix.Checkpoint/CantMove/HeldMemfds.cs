using OpenMosix.Linux.Interop;

namespace OpenMosix.Checkpoint.CantMove;

/// <summary>
/// The memfds a process holds descriptors of (by device and inode, as /proc/PID/maps names them) and how many bytes
/// of data they hold: a shared mapping of one of them can be mapped again from its rebuilt memfd.
/// </summary>
internal sealed class HeldMemfds
{
    private readonly HashSet<(ulong Device, ulong Inode)> _files = [];

    public long Bytes { get; private set; }

    public static bool IsMemfdMapping(MapsEntry m) => m.IsDeletedFile && m.Name.StartsWith("/memfd:", StringComparison.Ordinal);

    public bool Holds(ulong device, ulong inode) => _files.Contains((device, inode));

    public static HeldMemfds Find(int pid, IEnumerable<(int Fd, string Target)> descriptors)
    {
        var held = new HeldMemfds();
        foreach (var (fd, target) in descriptors)
        {
            if (!target.StartsWith("/memfd:", StringComparison.Ordinal)) continue;
            if (!FileStatus.TryOf($"/proc/{pid}/fd/{fd}", out var st, out _) || !KernelObjectReasons.IsMemfd(target, st!)) continue;
            if (!held._files.Add((st!.Device, st.Inode))) continue;
            held.Bytes += DataBytes(pid, fd, st.Size);
        }
        return held;
    }

    /// <summary>The bytes of a memfd that hold data (holes never written are not counted, nor carried).</summary>
    public static long DataBytes(int pid, int fd, long size)
    {
        try
        {
            using var file = Descriptors.Open($"/proc/{pid}/fd/{fd}", OpenFlags.ReadOnly);
            return KernelObjects.DataRanges(file, size).Sum(r => r.Length);
        }
        catch (SyscallException)
        {
            return 0; // closed meanwhile
        }
    }
}
