namespace OpenMosix.Linux;

public static class ResourceLimits
{
    public const int RLIMIT_STACK = 3, RLIMIT_NOFILE = 7, Count = 16;
    public const ulong Infinity = ulong.MaxValue;

    public static unsafe RLimit Get(int pid, int resource)
    {
        RLimit old;
        if (Sys.Prlimit(pid, resource, null, &old) < 0)
            throw new SyscallException("prlimit", Errno.Last, $"pid {pid} resource {resource}");
        return old;
    }

    /// <summary>Sets a limit (pid 0 = this process) and returns the previous value.</summary>
    public static unsafe RLimit Set(int pid, int resource, RLimit value)
    {
        RLimit old;
        if (Sys.Prlimit(pid, resource, &value, &old) < 0)
            throw new SyscallException("prlimit", Errno.Last, $"pid {pid} resource {resource}");
        return old;
    }
}
