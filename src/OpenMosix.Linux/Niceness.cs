namespace OpenMosix.Linux;

/// <summary>Nice values. On Linux they belong to threads: PRIO_PROCESS with a thread id sets that one thread's.</summary>
public static class Niceness
{
    private const int PrioProcess = 0;

    /// <summary>Sets the nice value of thread (or single-threaded process) <paramref name="tid"/>.</summary>
    public static void Set(int tid, int nice)
    {
        if (Sys.SetPriority(PrioProcess, (uint)tid, nice) != 0)
            throw new SyscallException("setpriority", Errno.Last, $"thread {tid} to nice {nice}");
    }

    /// <summary>Sets the nice value of every thread of this process (threads created later inherit their creator's).</summary>
    public static void SetForThisProcess(int nice)
    {
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
            if (int.TryParse(Path.GetFileName(task), out var tid))
            {
                try
                {
                    Set(tid, nice);
                }
                catch (SyscallException e) when (e.Error == Errno.ESRCH)
                {
                    // The thread ended meanwhile.
                }
            }
    }
}
