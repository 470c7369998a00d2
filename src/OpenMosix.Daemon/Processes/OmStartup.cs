using OpenMosix.Linux.Proc;

namespace OpenMosix.Daemon.Processes;

/// <summary>
/// What `om run` is when it registers itself, before it execs the user's program: its executable, and its own
/// descriptors that are close-on-exec (the runtime's dups of stdout and stderr, its signal pipe, its socket to omd).
/// A move must wait until the process has left all of it behind: /proc/PID/exe names the new program as soon as the
/// kernel has swapped the address space, but the close-on-exec descriptors are closed a moment later in the same
/// execve, and a move that looked in between refused om's dup of a piped stdout ("fd 4 is a pipe").
/// </summary>
public sealed record OmStartup(string Executable, IReadOnlyList<(int Fd, string Target)> CloseOnExec)
{
    /// <summary>The process as it is now (null if it cannot be read: it ended, or is not ours to see).</summary>
    public static OmStartup? Of(int pid)
    {
        if (ProcessRegistry.ExecutableOf(pid) is not { } executable) return null;
        var own = new List<(int, string)>();
        try
        {
            foreach (var (fd, target) in ProcFs.ReadDescriptors(pid))
                if (fd > 2 && IsCloseOnExec(pid, fd)) own.Add((fd, target));
        }
        catch (Exception e) when (e is ProcessAccessException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
        return new OmStartup(executable, own);
    }

    /// <summary>Whether the process has exec'd and the exec is complete: it runs another program and none of these
    /// descriptors is open any more (one open under the same number on the same file is taken for still open). True too
    /// once the process has ended: whatever waits on this has nothing left to wait for.</summary>
    public bool IsLeftBehind(int pid)
    {
        if (ProcessRegistry.ExecutableOf(pid) is not { } now) return true;
        if (now == Executable) return false;
        foreach (var (fd, target) in CloseOnExec)
        {
            try
            {
                if (ProcFs.ReadLink(pid, $"fd/{fd}") == target) return false;
            }
            catch (ProcessAccessException)
            {
                // closed, or the process ended
            }
        }
        return true;
    }

    private static bool IsCloseOnExec(int pid, int fd)
    {
        try
        {
            return ProcFs.ReadFdInfo(pid, fd).CloseOnExec;
        }
        catch (ProcessAccessException)
        {
            return false; // closed while we looked
        }
    }
}
