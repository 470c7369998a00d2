using OpenMosix.Linux;
using OpenMosix.TestSupport;

namespace OpenMosix.Lab.Tests.Support;

/// <summary>Reaping children the test started with posix_spawn (not through Process).</summary>
internal static class Children
{
    /// <summary>Waits (bounded) until the child has ended, reaps it, and says how.</summary>
    public static WaitStatus Reap(int pid, TimeSpan timeout)
    {
        WaitStatus status = default;
        Poll.Until(() => (status = Waiting.WaitPid(pid, Waiting.WNOHANG)).Raw != -1, timeout, $"child {pid} to end");
        return status;
    }

    /// <summary>Kills and reaps the child if it is still running; a child already reaped is left alone (its PID is no longer ours).</summary>
    public static void KillIfRunning(int pid)
    {
        try
        {
            if (Waiting.WaitPid(pid, Waiting.WNOHANG).Raw != -1) return;
        }
        catch (SyscallException e) when (e.Error == Errno.ECHILD)
        {
            return;
        }
        Signals.Kill(pid, Signals.SIGKILL);
        Waiting.WaitPid(pid, 0);
    }
}
