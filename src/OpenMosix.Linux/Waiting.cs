namespace OpenMosix.Linux;

public static class Waiting
{
    public const int WNOHANG = 1, WUNTRACED = 2, WCONTINUED = 8, WALL = 0x40000000;
    private const int P_PID = 1, P_PIDFD = 3, WEXITED = 4, WNOWAIT = 0x01000000;
    private const int CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3;

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

    /// <summary>
    /// Reaps the process <paramref name="process"/> names if it has ended, as a wait status, or -1 while it has not;
    /// ECHILD once someone else reaped it. waitid on the pidfd, so never another child handed the same PID since.
    /// A stop it meets is taken and not reported, as by a waitpid loop that waits for the end.
    /// </summary>
    public static unsafe WaitStatus TryReap(PidFd process)
    {
        ArgumentNullException.ThrowIfNull(process);
        var info = stackalloc byte[128];
        new Span<byte>(info, 128).Clear();
        while (Sys.Waitid(P_PIDFD, (int)process.DangerousGetHandle(), info, WEXITED | WNOHANG | WALL) < 0)
        {
            var errno = Errno.Last;
            if (errno != Errno.EINTR) throw new SyscallException("waitid(P_PIDFD)", errno, $"pid {process.Pid}");
        }
        // siginfo_t of SIGCHLD: si_code at 8, si_pid at 16, si_status at 24.
        var code = *(int*)(info + 8);
        var status = *(int*)(info + 24);
        if (*(int*)(info + 16) == 0) return new WaitStatus(-1);
        return code switch
        {
            CLD_EXITED => new WaitStatus((status & 0xff) << 8),
            CLD_DUMPED => new WaitStatus((status & 0x7f) | 0x80),
            CLD_KILLED => new WaitStatus(status & 0x7f),
            _ => new WaitStatus(-1),
        };
    }
}
