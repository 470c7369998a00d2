namespace OpenMosix.Checkpoint.Tracing;

/// <summary>
/// SIGSTOPs that reached a process while this tracer thread injected calls into it (every other signal is blocked
/// then, or put back into its queue blocked by the injector; SIGSTOP cannot be blocked). The injector takes such a stop
/// out of the way, as it must to run its call, and notes it here; whoever lets the process go sends it again
/// (<see cref="Resend"/>: a checkpoint's resume, a parked deputy, a thawed process), so the process stops as it was told
/// to and its parent's wait sees the stop, instead of the stop being lost with a failed checkpoint. Per tracer thread.
/// </summary>
internal static class HeldStops
{
    [ThreadStatic]
    private static HashSet<int>? t_held;

    public static void Note(int pid) => (t_held ??= []).Add(pid);

    /// <summary>Whether a stop of <paramref name="pid"/> is held, or of one of its <paramref name="threads"/> (a stop
    /// goes to the whole process, whichever thread an injected call met it in), keeping it held for the process.</summary>
    public static bool Holds(int pid, IEnumerable<int> threads)
    {
        if (t_held is null) return false;
        foreach (var tid in threads)
            if (t_held.Remove(tid)) t_held.Add(pid);
        return t_held.Contains(pid);
    }

    /// <summary>Whether a stop of <paramref name="pid"/> is held, forgetting it.</summary>
    public static bool Take(int pid) => t_held?.Remove(pid) == true;

    /// <summary>Sends a held stop of <paramref name="pid"/>, let go (or about to be), again; false when none was held.</summary>
    public static bool Resend(int pid)
    {
        if (!Take(pid)) return false;
        Signals.Kill(pid, Signals.SIGSTOP);
        return true;
    }
}
