namespace OpenMosix.Linux;

public static class Waiting
{
    public const int WNOHANG = 1, WUNTRACED = 2, WCONTINUED = 8, WALL = 0x40000000;
    private const int P_PID = 1, WEXITED = 4, WNOWAIT = 0x01000000;

    /// <summary>waitpid, retried on EINTR.</summary>
    public static WaitStatus WaitPid(int pid, int options = WALL)
    {
        while (true)
        {
            var r = Sys.Waitpid(pid, out var status, options);
            if (r > 0) return new WaitStatus(status);
            if (r == 0) return new WaitStatus(-1);
            var errno = Errno.Last;
            if (errno != Errno.EINTR) throw new SyscallException("waitpid", errno, $"pid {pid}");
        }
    }

    /// <summary>Waits until the process has exited without reaping it, so that its parent still can.</summary>
    public static unsafe void WaitForExitWithoutReaping(int pid)
    {
        var info = stackalloc byte[128];
        while (Sys.Waitid(P_PID, pid, info, WEXITED | WNOWAIT | WALL) < 0)
        {
            var errno = Errno.Last;
            if (errno != Errno.EINTR) throw new SyscallException("waitid(WNOWAIT)", errno, $"pid {pid}");
        }
    }
}
