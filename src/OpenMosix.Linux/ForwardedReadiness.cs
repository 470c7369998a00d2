namespace OpenMosix.Linux;

/// <summary>
/// Readiness of forwarded descriptors: what home's descriptor is ready for (poll bits), waiting on many at once, and
/// the unix socket pairs whose one end stands in for a forwarded descriptor in the moved process, so that its own
/// poll, select and epoll see home's readiness.
/// </summary>
public static class ForwardedReadiness
{
    public const short In = 0x1, Out = 0x4, Error = 0x8, HangUp = 0x10, Invalid = 0x20, ReadHangUp = 0x2000;

    /// <summary>The readiness bits the descriptor has now (In, Out, Error, HangUp, ReadHangUp), without waiting.</summary>
    public static unsafe short Of(SafeFileHandle fd)
    {
        ArgumentNullException.ThrowIfNull(fd);
        var entry = new PollFd { Fd = (int)fd.DangerousGetHandle(), Events = In | Out | ReadHangUp };
        return Sys.Poll(&entry, 1, 0) > 0 ? entry.ReturnedEvents : (short)0;
    }

    /// <summary>poll(2) on <paramref name="entries"/>: how many have events, 0 on timeout or when a signal came.</summary>
    public static unsafe int Wait(Span<PollFd> entries, int timeoutMs)
    {
        fixed (PollFd* p = entries)
        {
            var n = Sys.Poll(p, (nuint)entries.Length, timeoutMs);
            if (n >= 0) return n;
            var errno = Errno.Last;
            return errno == Errno.EINTR ? 0 : throw new SyscallException("poll", errno);
        }
    }

    /// <summary>A connected pair of unix stream sockets, close-on-exec and non-blocking.</summary>
    public static unsafe (SafeFileHandle First, SafeFileHandle Second) CreateSocketPair()
    {
        var fds = stackalloc int[2];
        if (Sys.Socketpair(Sys.AF_UNIX, Sys.SOCK_STREAM | Sys.SOCK_CLOEXEC | (int)OpenFlags.NonBlock, 0, fds) < 0)
            throw SyscallException.FromLastError("socketpair");
        return (new SafeFileHandle(fds[0], true), new SafeFileHandle(fds[1], true));
    }
}
