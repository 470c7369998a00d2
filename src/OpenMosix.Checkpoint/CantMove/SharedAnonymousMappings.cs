using System.Globalization;

namespace OpenMosix.Checkpoint.CantMove;

/// <summary>
/// Anonymous shared memory (mmap MAP_SHARED|MAP_ANONYMOUS; /proc shows it as "/dev/zero (deleted)"): threads of one
/// process share it as any memory, and it travels with its pages, to be mapped shared and anonymous again. Shared
/// with another process (a fork that kept it) it stays home: the other one would stop seeing the writes.
/// </summary>
internal static class SharedAnonymousMappings
{
    private const string ShmemName = "/dev/zero (deleted)";

    public static bool IsMapping(MapsEntry m) => m.Shared && m.Name == ShmemName;

    /// <summary>Adds a reason for each of <paramref name="mappings"/> (the process's own) that cannot travel.</summary>
    public static void AddReasons(int pid, IReadOnlyList<MapsEntry> mappings, List<string> reasons)
    {
        if (mappings.Count == 0) return;
        foreach (var group in mappings.GroupBy(m => (m.Device, m.Inode)).Where(g => g.Count() > 1))
        {
            // One object split by mprotect shows as several neighbours at growing offsets; two views of the same
            // pages (mremap with old size 0) cannot be rebuilt from one anonymous mapping each.
            var parts = group.OrderBy(m => m.Offset).ToList();
            for (var i = 1; i < parts.Count; i++)
                if (parts[i].Offset < parts[i - 1].Offset + parts[i - 1].Length)
                    reasons.Add($"maps the same shared memory twice, at {parts[i - 1].Start:x}-{parts[i - 1].End:x} and {parts[i].Start:x}-{parts[i].End:x}");
        }
        var users = OtherMappers(pid, mappings);
        foreach (var m in mappings)
            if (users.TryGetValue((m.Device, m.Inode), out var other))
                reasons.Add($"has shared memory at {m.Start:x}-{m.End:x} that process {other} also maps");
    }

    /// <summary>For each shared memory object of <paramref name="mappings"/> another process maps, the first such process.</summary>
    private static Dictionary<(ulong Device, ulong Inode), int> OtherMappers(int pid, IReadOnlyList<MapsEntry> mappings)
    {
        var wanted = mappings.Select(m => (m.Device, m.Inode)).ToHashSet();
        var inodes = wanted.Select(w => w.Inode.ToString(CultureInfo.InvariantCulture)).ToList();
        var users = new Dictionary<(ulong, ulong), int>();
        foreach (var other in ProcessTable.Pids())
        {
            if (other == pid) continue;
            try
            {
                var maps = File.ReadAllText($"/proc/{other}/maps");
                if (!maps.Contains(ShmemName, StringComparison.Ordinal) || !inodes.Any(i => maps.Contains(i, StringComparison.Ordinal))) continue;
                foreach (var m in MapsParser.Parse(maps))
                    if (IsMapping(m) && wanted.Contains((m.Device, m.Inode))) users.TryAdd((m.Device, m.Inode), other);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // ended while we looked
            }
            if (users.Count == wanted.Count) break;
        }
        return users;
    }
}
