using System.Globalization;
using System.Text;

namespace OpenMosix.Lab.Tests.Support;

/// <summary>
/// The kernel's view at the moment a lab test failed, for its failure report: a node's memory cgroup (is it at its
/// limit, did its OOM killer act, is it refaulting file pages it keeps reclaiming) and a process's state (running,
/// blocked in the kernel and where, stopped under a tracer, a zombie nobody reaps). Each reads what it can and says
/// what it could not in its line.
/// </summary>
internal static class FailureState
{
    private static readonly string[] StatKeys =
        ["total_rss", "total_cache", "total_mapped_file", "total_workingset_refault_file", "total_pgmajfault"];

    /// <summary>"usage 1020 of 1024 MiB, oom_kill 3, under_oom 0, total_rss 990 MiB, …" for one memory cgroup.</summary>
    public static string MemoryCgroup(string directory)
    {
        try
        {
            static long Number(string text) => long.Parse(text.Trim(), CultureInfo.InvariantCulture);
            var usage = Number(File.ReadAllText(Path.Combine(directory, "memory.usage_in_bytes"))) >> 20;
            var limit = Number(File.ReadAllText(Path.Combine(directory, "memory.limit_in_bytes"))) >> 20;
            var parts = new List<string> { $"usage {usage} of {limit} MiB" };
            foreach (var line in File.ReadLines(Path.Combine(directory, "memory.oom_control")))
                if (line.Split(' ')[0] is "oom_kill" or "under_oom") parts.Add(line);
            var stat = File.ReadLines(Path.Combine(directory, "memory.stat")).Select(l => l.Split(' '))
                .Where(f => f.Length == 2 && StatKeys.Contains(f[0])).ToDictionary(f => f[0], f => Number(f[1]));
            foreach (var key in StatKeys.Where(stat.ContainsKey))
                parts.Add(key.Contains("fault", StringComparison.Ordinal) ? $"{key} {stat[key]}" : $"{key} {stat[key] >> 20} MiB");
            return string.Join(", ", parts);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return $"{directory} could not be read: {e.Message}";
        }
    }

    /// <summary>"process 5203 (memgrow): state D, wchan …, parent …" and its kernel stack, or that it is gone.</summary>
    public static string Process(int pid)
    {
        var text = new StringBuilder();
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var open = stat.IndexOf('(', StringComparison.Ordinal);
            var close = stat.LastIndexOf(')');
            var fields = stat[(close + 2)..].Split(' ');
            var wchan = Readable($"/proc/{pid}/wchan");
            var tracer = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("TracerPid:", StringComparison.Ordinal))?.Split('\t')[^1];
            text.Append($"process {pid} ({stat[(open + 1)..close]}): state {fields[0]}, wchan {wchan}, parent {fields[1]}, tracer {tracer}\n");
            foreach (var frame in Readable($"/proc/{pid}/stack").Split('\n', StringSplitOptions.RemoveEmptyEntries).Take(12))
                text.Append("    ").Append(frame).Append('\n');
            // A threaded process that stopped making progress: which of its threads waits where.
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task").Select(Path.GetFileName).Where(t => t != $"{pid}"))
            {
                var taskStat = Readable($"/proc/{pid}/task/{task}/stat");
                var state = taskStat.Length > taskStat.LastIndexOf(')') + 2 ? taskStat[(taskStat.LastIndexOf(')') + 2)..].Split(' ')[0] : "?";
                text.Append($"  thread {task}: state {state}, wchan {Readable($"/proc/{pid}/task/{task}/wchan")}\n");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            text.Append($"process {pid}: gone ({e.Message})\n");
        }
        return text.ToString();
    }

    private static string Readable(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"? ({e.GetType().Name})";
        }
    }
}
