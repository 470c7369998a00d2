using OpenMosix.Linux.Interop;

namespace OpenMosix.Checkpoint.Tree;

/// <summary>
/// The regular files a frozen tree shares one open file description of (opened before a fork: a script's
/// <c>&gt; log</c> that its jobs write to): found by inode, then told apart with kcmp, since two processes may also
/// have opened the same file on their own. Each process would otherwise reopen it with an offset of its own, and
/// their writes would overwrite each other.
/// </summary>
internal static class TreeFileScan
{
    private sealed record Open(int Pid, int Fd, string Path, FdInfo Info);

    public static List<TreeSharedFile> Read(IEnumerable<int> pids)
    {
        var byInode = new Dictionary<(ulong, ulong), List<Open>>();
        foreach (var pid in pids)
            foreach (var (fd, target) in ProcFs.ReadDescriptors(pid))
            {
                if (!target.StartsWith('/') || !FileStatus.TryOf($"/proc/{pid}/fd/{fd}", out var st, out _) || st!.Type != FileType.Regular) continue;
                var key = (st.Device, st.Inode);
                if (!byInode.TryGetValue(key, out var list)) byInode[key] = list = [];
                list.Add(new Open(pid, fd, target, ProcFs.ReadFdInfo(pid, fd)));
            }
        var shared = new List<TreeSharedFile>();
        foreach (var opens in byInode.Values.Where(o => o.Select(x => x.Pid).Distinct().Count() > 1))
        {
            var descriptions = new List<List<Open>>();
            foreach (var open in opens)
            {
                var same = descriptions.FirstOrDefault(d => KernelObjects.SameOpenFile(d[0].Pid, d[0].Fd, open.Pid, open.Fd));
                if (same is null) descriptions.Add([open]);
                else same.Add(open);
            }
            shared.AddRange(descriptions.Where(d => d.Select(x => x.Pid).Distinct().Count() > 1).Select(d => new TreeSharedFile
            {
                Path = d[0].Path,
                Flags = d[0].Info.Flags & ~(int)OpenFlags.CloseOnExec,
                Offset = d[0].Info.Position,
                Ends = [.. d.Select(o => new TreeDescriptor { Pid = o.Pid, Fd = o.Fd, Flags = o.Info.Flags & ~(int)(OpenFlags.CloseOnExec | OpenFlags.AccessModeMask), CloseOnExec = o.Info.CloseOnExec })],
            }));
        }
        return shared;
    }
}
