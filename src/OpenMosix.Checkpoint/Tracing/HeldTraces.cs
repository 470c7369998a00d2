namespace OpenMosix.Checkpoint.Tracing;

/// <summary>
/// Main threads this tracer thread already traces for another purpose (an adopted guest's exit watch), stopped and
/// lent to a freeze: the freeze takes that trace over (its own options set, no seize) instead of seizing, and gives it
/// back (options cleared, the thread let run on) instead of detaching. Only a running thread is lent: one in a
/// group-stop would be given back by PTRACE_CONT, which lets it run out of its stop. Ptrace allows one tracer per
/// thread, so a detach and a seize would leave the process untraced in between, where an exit would be reaped by its
/// parent (init) and its status lost to the watch. Per tracer thread: every ptrace request runs on the one that traces.
/// </summary>
internal static class HeldTraces
{
    private sealed class Loan
    {
        /// <summary>Given back: it runs on under the lender's trace.</summary>
        public bool Back { get; set; }
    }

    [ThreadStatic]
    private static Dictionary<int, Loan>? t_lent;

    /// <summary><paramref name="pid"/>, traced and in a ptrace event stop (not a group-stop), is lent to the next freeze.</summary>
    public static void Lend(int pid) => (t_lent ??= [])[pid] = new Loan();

    /// <summary>
    /// The lender has it back. One the freeze never took or gave back (it failed before) is let run on first, unless
    /// <paramref name="alive"/> is false (it was killed: its exit is collected by the caller).
    /// </summary>
    public static void Return(int pid, bool alive = true)
    {
        if (t_lent?.Remove(pid, out var loan) != true || loan!.Back || !alive) return;
        try
        {
            LetRun(pid, loan);
        }
        catch (SyscallException)
        {
            // Gone meanwhile: the lender's next wait finds its end.
        }
    }

    /// <summary>Whether <paramref name="pid"/> is lent (and not returned yet).</summary>
    public static bool IsLent(int pid) => t_lent?.ContainsKey(pid) == true;

    /// <summary>Takes a lent thread over with <paramref name="options"/>; false when it is not lent (seize it then).</summary>
    public static bool TakeOver(int pid, int options)
    {
        if (t_lent?.TryGetValue(pid, out var loan) != true || loan!.Back) return false;
        Ptrace.SetOptions(pid, options);
        return true;
    }

    /// <summary>Detaches <paramref name="tid"/>; when it is lent, gives it back instead (once: a second detach of it
    /// must not let go of the lender's trace).</summary>
    public static void Detach(int tid)
    {
        if (t_lent?.TryGetValue(tid, out var loan) != true)
        {
            Ptrace.Detach(tid);
            return;
        }
        if (loan!.Back) return;
        LetRun(tid, loan);
    }

    private static void LetRun(int pid, Loan loan)
    {
        loan.Back = true;
        Ptrace.SetOptions(pid, 0);
        Ptrace.Continue(pid);
    }
}
