namespace OpenMosix.Linux.Events;

/// <summary>
/// Runs a piece of work in the network namespace of PID 1. The kernel's process connector exists only there: a
/// netlink socket made in any other namespace is refused (ECONNREFUSED), though the events it would carry are those
/// of the whole PID namespace. An omd started inside a namespace (every node of `om lab`) makes its event socket
/// there; the socket keeps that namespace, the thread that made it is thrown away.
/// </summary>
public static class InitialNetworkNamespace
{
    private const string OfInit = "/proc/1/ns/net", OfKthreadd = "/proc/2/ns/net";

    /// <summary>PID 1's namespace; where root may not look at PID 1 (an init that is not dumpable, as in some
    /// sandboxes: its link then reads as none), that of kthreadd, PID 2, whose kernel threads all live in the initial
    /// network namespace.</summary>
    private static string Initial() => Target(OfInit) is null && IsKthreadd() ? OfKthreadd : OfInit;

    private static string? Target(string link)
    {
        try
        {
            return new FileInfo(link).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool IsKthreadd()
    {
        try
        {
            return File.ReadAllText("/proc/2/comm") == "kthreadd\n";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static bool IsCurrent() => Target("/proc/thread-self/ns/net") is { } current && current == Target(Initial());

    public static T Run<T>(Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (IsCurrent()) return work();
        T result = default!;
        Exception? failure = null;
        // setns(CLONE_NEWNET) moves only the calling thread; a thread of its own is never handed back to a pool.
        var thread = new Thread(() =>
        {
            try
            {
                var initial = Initial();
                using var target = Sys.Open(initial, OpenFlags.ReadOnly | OpenFlags.CloseOnExec, 0).OrThrow("open", initial);
                if (Sys.Setns(target, Sys.CLONE_NEWNET) != 0) throw SyscallException.FromLastError("setns");
                result = work();
            }
            catch (Exception e)
            {
                failure = e;
            }
        })
        { Name = "initial netns", IsBackground = true };
        thread.Start();
        thread.Join();
        if (failure is not null) throw failure;
        return result;
    }
}
