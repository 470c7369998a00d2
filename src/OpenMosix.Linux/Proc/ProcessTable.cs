using System.Globalization;

namespace OpenMosix.Linux.Proc;

/// <summary>Every process of this PID namespace and its parent, read from /proc/*/stat.</summary>
public static class ProcessTable
{
    /// <summary>The PIDs of every process now (the numeric entries of /proc).</summary>
    public static IEnumerable<int> Pids()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) yield return pid;
    }

    public static Dictionary<int, int> ReadParents()
    {
        var parents = new Dictionary<int, int>();
        foreach (var pid in Pids())
        {
            try
            {
                parents[pid] = ProcStat.Parse(File.ReadAllText($"/proc/{pid}/stat")).PPid;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                // gone while we looked
            }
        }
        return parents;
    }

    /// <summary>
    /// The descendants of <paramref name="roots"/> in <paramref name="parents"/> that are not roots themselves, each
    /// with its parent, parents before their children (so each can inherit from one already known).
    /// </summary>
    public static List<(int Pid, int Parent)> Descendants(IReadOnlyDictionary<int, int> parents, IReadOnlySet<int> roots)
    {
        ArgumentNullException.ThrowIfNull(parents);
        ArgumentNullException.ThrowIfNull(roots);
        var children = parents.Where(p => p.Key != p.Value).ToLookup(p => p.Value, p => p.Key);
        var found = new List<(int, int)>();
        var seen = new HashSet<int>(roots);
        var queue = new Queue<int>(roots);
        while (queue.TryDequeue(out var parent))
            foreach (var child in children[parent].Order())
                if (seen.Add(child))
                {
                    found.Add((child, parent));
                    queue.Enqueue(child);
                }
        return found;
    }
}
