using OpenMosix.Linux;

namespace OpenMosix.Lab.Tests.Support;

/// <summary>
/// A process the test asks about after it may have ended, by a pidfd taken while it was known to run (asked with
/// <see cref="PidFd.Exists"/>). Its PID alone is not enough: other test assemblies restore processes under their old
/// PIDs by writing ns_last_pid, which rewinds the PID allocator, so a PID reaped a moment ago is soon handed out again,
/// and `kill(pid, 0)` or /proc/PID then answer for another process (docs/testing.md).
/// </summary>
internal static class Watched
{
    /// <summary>A pidfd on <paramref name="pid"/>, or null when no process has that PID any more (it is gone: what
    /// the caller waits for); <paramref name="isIt"/> checks, after the pidfd is open, that the PID still names the
    /// process meant (a PID read from a listing may already have been reaped and handed out again).</summary>
    public static PidFd? ProcessIfThere(int pid, Func<int, bool> isIt)
    {
        PidFd handle;
        try
        {
            handle = PidFd.Open(pid);
        }
        catch (ProcessAccessException)
        {
            return null;
        }
        if (isIt(pid)) return handle;
        handle.Dispose();
        return null;
    }

    /// <summary>The parent PID /proc shows for <paramref name="pid"/>, 0 once it is gone.</summary>
    public static int ParentOf(int pid)
    {
        try
        {
            return OpenMosix.Linux.Proc.ProcFs.ReadStat(pid).PPid;
        }
        catch (Exception e) when (e is IOException or ProcessAccessException)
        {
            return 0;
        }
    }

    /// <summary>The state letter of its /proc stat, 'X' once it is gone: read by PID, kept only if the pidfd's
    /// process still existed after the read (then the PID was its own while it was read).</summary>
    public static char State(PidFd process)
    {
        var state = TakenOverCopies.State(process.Pid);
        return process.Exists ? state : 'X';
    }
}

/// <summary>Several watched processes (null for one gone before it was watched), disposed together.</summary>
internal sealed class PidFds(IEnumerable<PidFd?> handles) : IDisposable
{
    private readonly List<PidFd> _handles = [.. handles.OfType<PidFd>()];

    /// <summary>Whether every one of them has ended and been reaped.</summary>
    public bool NoneLeft => _handles.All(handle => !handle.Exists);

    public void Dispose()
    {
        foreach (var handle in _handles) handle.Dispose();
    }
}
