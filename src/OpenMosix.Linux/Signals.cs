namespace OpenMosix.Linux;

public static class Signals
{
    public const int SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGTRAP = 5, SIGABRT = 6, SIGKILL = 9, SIGUSR1 = 10,
        SIGSEGV = 11, SIGUSR2 = 12, SIGPIPE = 13, SIGALRM = 14, SIGTERM = 15, SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19, SIGTSTP = 20, SIGTTIN = 21, SIGTTOU = 22, SIGWINCH = 28;

    public static void Kill(int pid, int signal)
    {
        if (Sys.Kill(pid, signal) == 0) return;
        var errno = Errno.Last;
        if (errno == Errno.ESRCH) throw new ProcessAccessException(pid, "no such process");
        if (errno == Errno.EPERM) throw new ProcessAccessException(pid, "permission denied");
        throw new SyscallException("kill", errno, $"pid {pid}");
    }

    /// <summary>True when the process exists (kill with signal 0 succeeds or is refused for permission only).</summary>
    public static bool Exists(int pid) => Sys.Kill(pid, 0) == 0 || Errno.Last == Errno.EPERM;
}
