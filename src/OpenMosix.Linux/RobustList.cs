namespace OpenMosix.Linux;

public static class RobustList
{
    /// <summary>The futex robust list head and its length as registered by the process (glibc does at start).</summary>
    public static unsafe (ulong Head, ulong Length) Get(int pid)
    {
        ulong head, length;
        if (Sys.GetRobustList(pid, &head, &length) < 0)
            throw new SyscallException("get_robust_list", Errno.Last, $"pid {pid}");
        return (head, length);
    }
}
