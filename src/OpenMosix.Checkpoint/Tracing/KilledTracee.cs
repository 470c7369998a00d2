namespace OpenMosix.Checkpoint.Tracing;

/// <summary>
/// A tracee killed while in a ptrace stop (SIGKILL ends any stop: the OOM killer sends it to a frozen process on a
/// full node) answers every ptrace request with ESRCH, and its death is reported to its tracer before its parent:
/// until the tracer collects it, the parent's wait() blocks on a zombie that nobody releases.
/// </summary>
internal static class KilledTracee
{
    /// <summary>How long a killed tracee is given to exit before the tracer thread moves on.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    /// <summary>Whether <paramref name="error"/> from a ptrace request means the stopped tracee was killed.</summary>
    public static bool Is(Exception error) =>
        error is TraceeGoneException || error is SyscallException { Error: Errno.ESRCH };

    /// <summary>Whether <paramref name="pid"/> is a child of omd itself (a stub it spawned), even as a zombie.</summary>
    public static bool IsOurChild(int pid)
    {
        try
        {
            return ProcFs.ReadStat(pid).PPid == Environment.ProcessId;
        }
        catch (ProcessAccessException)
        {
            return false;
        }
    }

    /// <summary>Lets go of a stopped tracee; one that was killed meanwhile is released to its parent instead.</summary>
    public static void Detach(int pid, ILogger logger)
    {
        try
        {
            HeldTraces.Detach(pid);
        }
        catch (SyscallException e) when (Is(e))
        {
            Release(pid, IsOurChild(pid), logger);
        }
    }

    /// <summary>
    /// Collects the killed tracee's exit as its tracer, which hands it on to its parent, and logs it. Our own child
    /// needs nothing: its parent is omd itself, and whatever spawned it reaps it. Gives up after <see cref="Patience"/>
    /// (a process that answered ESRCH without dying is not ours to wait for).
    /// </summary>
    public static void Release(int pid, bool isOurChild, ILogger logger)
    {
        logger.LogWarning("Process {Pid} was killed while frozen", pid);
        if (!Collect(pid, isOurChild)) logger.LogWarning("Process {Pid} answered as killed but did not exit", pid);
    }

    private static bool Collect(int pid, bool isOurChild)
    {
        if (isOurChild) return true;
        var deadline = DateTime.UtcNow + Patience;
        try
        {
            while (true)
            {
                var status = Waiting.WaitPid(pid, Waiting.WALL | Waiting.WNOHANG);
                if (status.Raw != -1 && !status.Stopped) return true;
                if (DateTime.UtcNow >= deadline) return false;
                // A kill reaches a stopped tracee at once, but the exit itself can take a moment (a large address
                // space is torn down first); stops still queued from before the kill come out first.
                if (status.Raw == -1) Thread.Sleep(5);
            }
        }
        catch (SyscallException e) when (e.Error == Errno.ECHILD)
        {
            return true; // collected already (TraceeGoneException), or never traced by us
        }
    }
}
