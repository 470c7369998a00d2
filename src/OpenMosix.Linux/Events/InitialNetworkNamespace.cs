using Microsoft.Win32.SafeHandles;
using OpenMosix.Linux.Interop;

namespace OpenMosix.Linux.Events;

/// <summary>
/// Runs a piece of work in the network namespace of PID 1. The kernel's process connector exists only there: a
/// netlink socket made in any other namespace is refused (ECONNREFUSED), though the events it would carry are those
/// of the whole PID namespace. An omd started inside a namespace (every node of `om lab`) makes its event socket
/// there; the socket keeps that namespace, the thread that made it is thrown away.
/// </summary>
public static class InitialNetworkNamespace
{
    private const string Initial = "/proc/1/ns/net";

    public static bool IsCurrent()
    {
        try
        {
            return new FileInfo("/proc/thread-self/ns/net").LinkTarget == new FileInfo(Initial).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

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
                using var target = Sys.Open(Initial, OpenFlags.ReadOnly | OpenFlags.CloseOnExec, 0).OrThrow("open", Initial);
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
