namespace OpenMosix.Linux;

/// <summary>
/// A blocking read of a socket that .NET keeps non-blocking for its own asynchronous I/O, made on the caller's thread:
/// <c>recv</c>, and when the socket is empty <c>poll</c> until it is not. A node link's image frames are read so by the
/// thread that restores them; .NET's own synchronous read of such a socket waits on its epoll thread to be woken, and
/// its asynchronous one hops through that thread and the thread pool, for every read that finds the socket empty.
/// </summary>
public static class SocketWait
{
    /// <summary>
    /// Reads at least one byte into <paramref name="buffer"/>, waiting until <paramref name="deadline"/>
    /// (<see cref="Environment.TickCount64"/>; <see cref="long.MaxValue"/>: for ever). Returns 0 at the peer's
    /// orderly end or a socket shut down; throws <see cref="TimeoutException"/> when nothing came by then and
    /// <see cref="SyscallException"/> for any other failure.
    /// </summary>
    public static unsafe int Receive(SafeHandle socket, Span<byte> buffer, long deadline)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var added = false;
        // Held while we read: a socket disposed meanwhile keeps its descriptor (never another file's) until we let go.
        socket.DangerousAddRef(ref added);
        try
        {
            fixed (byte* p = buffer)
            {
                while (true)
                {
                    var n = Sys.Recv(socket, p, (nuint)buffer.Length, Sys.MSG_DONTWAIT);
                    if (n >= 0) return (int)n;
                    var errno = Errno.Last;
                    if (errno == Errno.EINTR) continue;
                    if (errno != Errno.EAGAIN) throw new SyscallException("recv", errno, "reading a node link");
                    var entry = new PollFd { Fd = (int)socket.DangerousGetHandle(), Events = Sys.POLLIN };
                    var wait = deadline == long.MaxValue ? -1 : (int)Math.Clamp(deadline - Environment.TickCount64, 0, int.MaxValue);
                    var ready = Sys.Poll(&entry, 1, wait);
                    if (ready == 0) throw new TimeoutException();
                    if (ready < 0 && Errno.Last != Errno.EINTR) throw SyscallException.FromLastError("poll");
                }
            }
        }
        finally
        {
            if (added) socket.DangerousRelease();
        }
    }
}
