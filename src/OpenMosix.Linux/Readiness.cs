namespace OpenMosix.Linux;

public static class Readiness
{
    /// <summary>
    /// Waits at most <paramref name="timeout"/> for <paramref name="fd"/> to have data or end of file (poll), so a
    /// reader can stop between reads without setting O_NONBLOCK on a description it shares with someone else.
    /// </summary>
    public static bool WaitReadable(SafeFileHandle fd, TimeSpan timeout) => Wait(fd, Sys.POLLIN, timeout);

    /// <summary>Waits at most <paramref name="timeout"/> until a write to <paramref name="fd"/> would not block (for a pipe:
    /// one page of room), so a writer can stop between writes to a reader that does not read.</summary>
    public static bool WaitWritable(SafeFileHandle fd, TimeSpan timeout) => Wait(fd, PollOut, timeout);

    private static unsafe bool Wait(SafeFileHandle fd, short events, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(fd);
        var entry = new PollFd { Fd = (int)fd.DangerousGetHandle(), Events = events };
        var result = Sys.Poll(&entry, 1, (int)timeout.TotalMilliseconds);
        if (result < 0)
        {
            var errno = Errno.Last;
            if (errno == Errno.EINTR) return false;
            throw new SyscallException("poll", errno);
        }
        return result > 0;
    }

    /// <summary>Whether the other end is gone for good (POLLHUP): a terminal hung up, a pipe with no writer left.</summary>
    public static unsafe bool IsHungUp(SafeFileHandle fd)
    {
        ArgumentNullException.ThrowIfNull(fd);
        var entry = new PollFd { Fd = (int)fd.DangerousGetHandle(), Events = Sys.POLLIN };
        return Sys.Poll(&entry, 1, 0) > 0 && (entry.ReturnedEvents & PollHangUp) != 0;
    }

    private const short PollHangUp = 0x10, PollOut = 0x4;
}
