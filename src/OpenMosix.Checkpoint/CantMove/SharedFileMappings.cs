using System.Globalization;

namespace OpenMosix.Checkpoint.CantMove;

/// <summary>
/// Writable shared mappings of regular files (the JVM's hsperfdata file is one). Such a mapping travels with its
/// contents, and the file is written again where the process lands, when the process is the file's only user: no
/// other process maps it or holds it open here. Anyone else would stop seeing the writes made after the move (and the
/// restored copy would overwrite theirs), so a file shared with another process keeps the process home.
/// </summary>
internal static class SharedFileMappings
{
    /// <summary>Writable and shared, of a file that still has its name: SysV segments and memfds show as deleted
    /// files and have their own paths.</summary>
    public static bool IsCandidate(MapsEntry m) => m.Shared && m.Write && m.IsFileBacked && !m.IsDeletedFile;

    /// <summary>The file <paramref name="m"/> maps, as stat(2) sees it through map_files; null when it is gone.</summary>
    public static FileStatus? MappedFile(int pid, MapsEntry m) =>
        FileStatus.TryOf($"/proc/{pid}/map_files/{m.Start:x}-{m.End:x}", out var st, out _) ? st : null;

    /// <summary>Adds a reason for each candidate mapping of <paramref name="pid"/> that cannot travel.</summary>
    public static void AddReasons(int pid, IReadOnlyList<MapsEntry> candidates, List<string> reasons)
    {
        if (candidates.Count == 0) return;
        var movable = new List<(MapsEntry Mapping, FileStatus File)>();
        foreach (var m in candidates)
        {
            var at = $"has a writable shared mapping at {m.Start:x}-{m.End:x} ({m.Name})";
            var file = MappedFile(pid, m);
            if (file is null || file.Type != FileType.Regular)
                reasons.Add($"{at}, which is not a regular file");
            else if (!FileStatus.TryOf(m.Name, out var named, out _) || named!.Device != file.Device || named.Inode != file.Inode)
                reasons.Add($"{at} of a file that this path no longer names (renamed or replaced)");
            else
                movable.Add((m, file));
        }
        if (movable.Count == 0) return;
        var users = FindOtherUsers(pid, [.. movable.Select(f => f.File)], [.. movable.Select(f => f.Mapping.Name)]);
        foreach (var (m, file) in movable)
            if (users.TryGetValue((file.Device, file.Inode), out var other))
                reasons.Add($"has a writable shared mapping at {m.Start:x}-{m.End:x} ({m.Name}) that process {other} also uses");
    }

    /// <summary>
    /// For each of <paramref name="files"/> another process uses, the first such process found. Every process's maps
    /// are searched by device and inode (read whole only where the inode's number occurs), its descriptors by path
    /// (readlink only), and by device and inode when a file has other names a descriptor may have been opened by.
    /// </summary>
    private static Dictionary<(ulong Device, ulong Inode), int> FindOtherUsers(int pid, List<FileStatus> files, List<string> paths)
    {
        var wanted = files.Select(f => (f.Device, f.Inode)).ToHashSet();
        var inodes = files.Select(f => f.Inode.ToString(CultureInfo.InvariantCulture)).Distinct().ToList();
        var names = paths.ToHashSet(StringComparer.Ordinal);
        var anyOtherName = files.Any(f => f.Links > 1);
        var users = new Dictionary<(ulong, ulong), int>();
        foreach (var other in ProcessTable.Pids())
        {
            if (other == pid) continue;
            try
            {
                var maps = File.ReadAllText($"/proc/{other}/maps");
                if (inodes.Any(i => maps.Contains(i, StringComparison.Ordinal)))
                    foreach (var m in MapsParser.Parse(maps))
                        if (wanted.Contains((m.Device, m.Inode))) users.TryAdd((m.Device, m.Inode), other);
                foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{other}/fd"))
                {
                    var target = new FileInfo(fd).LinkTarget;
                    if (target is null || !(names.Contains(target) || anyOtherName && target.StartsWith('/'))) continue;
                    if (FileStatus.TryOf(fd, out var st, out _) && wanted.Contains((st!.Device, st.Inode))) users.TryAdd((st.Device, st.Inode), other);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // ended while we looked, or a kernel thread's empty tables
            }
            if (users.Count == wanted.Count) break;
        }
        return users;
    }
}
