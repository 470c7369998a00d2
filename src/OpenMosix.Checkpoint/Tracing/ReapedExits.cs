using System.Collections.Concurrent;

namespace OpenMosix.Checkpoint.Tracing;

/// <summary>
/// Ends the engine's own waits took from the kernel while they worked on a process (a freeze or an injected call that
/// found it gone), kept for the exit watch that waits for the same process: the kernel hands a status out once, and a
/// watch that found the process already reaped (ECHILD) would otherwise report it lost instead of ended. A guest that
/// exited during a periodic checkpoint was killed at home for that.
/// </summary>
internal static class ReapedExits
{
    // A status nobody asks for (a process the engine traced but does not watch) is dropped after this long.
    private static readonly TimeSpan Kept = TimeSpan.FromMinutes(2);
    private static readonly ConcurrentDictionary<int, (WaitStatus Status, long At)> s_reaped = new();

    public static void Record(int pid, WaitStatus status)
    {
        var now = Environment.TickCount64;
        s_reaped[pid] = (status, now);
        if (s_reaped.Count > 256)
            foreach (var (old, entry) in s_reaped)
                if (now - entry.At > Kept.TotalMilliseconds) s_reaped.TryRemove(old, out _);
    }

    /// <summary>The end an engine wait took for <paramref name="pid"/>, once.</summary>
    public static bool TryTake(int pid, out WaitStatus status)
    {
        status = default;
        if (!s_reaped.TryRemove(pid, out var entry) || Environment.TickCount64 - entry.At > Kept.TotalMilliseconds) return false;
        status = entry.Status;
        return true;
    }

    /// <summary>A new watch for <paramref name="pid"/>: an end kept for an earlier process of that number is not its.</summary>
    public static void Forget(int pid) => s_reaped.TryRemove(pid, out _);
}
