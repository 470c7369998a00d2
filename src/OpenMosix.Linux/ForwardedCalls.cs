namespace OpenMosix.Linux;

/// <summary>
/// The calls home carries out for a moved process on its own duplicate of a forwarded descriptor. Each returns what
/// the kernel call returns, or the negated errno, exactly as the process's own call would have: the result goes back
/// to the process as its call's result, so nothing here throws for a failed call.
/// </summary>
public static class ForwardedCalls
{
    public const int MsgDontWait = 0x40, MsgPeek = 0x2, MsgNoSignal = 0x4000;
    public const int FGetFd = 1, FSetFd = 2, FGetFl = 3, FSetFl = 4;
    public const int StatSize = 144, MaxAddress = 128, MaxOption = 256;
    private const int ONonBlock = 0x800;

    private static long Result(long value) => value < 0 ? -(long)Errno.Last : value;

    public static unsafe long Read(SafeHandle fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer) return Result(Sys.Read(fd, p, (nuint)buffer.Length));
    }

    public static unsafe long Write(SafeHandle fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data) return Result(Sys.Write(fd, p, (nuint)data.Length));
    }

    public static unsafe long ReadAt(SafeHandle fd, Span<byte> buffer, long offset)
    {
        fixed (byte* p = buffer) return Result(Sys.Pread(fd, p, (nuint)buffer.Length, offset));
    }

    public static unsafe long WriteAt(SafeHandle fd, ReadOnlySpan<byte> data, long offset)
    {
        fixed (byte* p = data) return Result(Sys.Pwrite(fd, p, (nuint)data.Length, offset));
    }

    /// <summary>getdents64: whole linux_dirent64 records, from the directory's offset (the open file's, shared).</summary>
    public static unsafe long ReadDirectory(SafeHandle fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer) return Result(Sys.Getdents64(fd, p, (nuint)buffer.Length));
    }

    public static long Seek(SafeHandle fd, long offset, int whence) => Result(Sys.Lseek(fd, offset, whence));

    public static long Control(SafeHandle fd, int command, int argument) => Result(Sys.Fcntl(fd, command, argument));

    /// <summary>Whether the open file is non-blocking (O_NONBLOCK is the open file's: shared with the process's own descriptor).</summary>
    public static bool IsNonBlocking(SafeHandle fd) => (Sys.Fcntl(fd, FGetFl, 0) & ONonBlock) != 0;

    public static unsafe long Status(SafeHandle fd, Span<byte> stat)
    {
        if (stat.Length < StatSize) throw new ArgumentException($"struct stat takes {StatSize} bytes", nameof(stat));
        fixed (byte* p = stat) return Result(Sys.Fstat(fd, p));
    }

    public static unsafe long Send(SafeHandle socket, ReadOnlySpan<byte> data, int flags, ReadOnlySpan<byte> address)
    {
        fixed (byte* p = data)
        fixed (byte* a = address)
            return Result(Sys.Sendto(socket, p, (nuint)data.Length, flags, address.IsEmpty ? null : a, (uint)address.Length));
    }

    /// <summary>Receives into <paramref name="buffer"/>; <paramref name="address"/> gets the sender's address, its
    /// length in <paramref name="addressLength"/> (the full length, which may exceed the buffer's).</summary>
    public static unsafe long Receive(SafeHandle socket, Span<byte> buffer, int flags, Span<byte> address, out int addressLength)
    {
        var length = (uint)address.Length;
        long n;
        fixed (byte* p = buffer)
        fixed (byte* a = address)
            n = Result(Sys.Recvfrom(socket, p, (nuint)buffer.Length, flags, address.IsEmpty ? null : a, address.IsEmpty ? null : &length));
        addressLength = address.IsEmpty || n < 0 ? 0 : (int)length;
        return n;
    }

    public static long Shutdown(SafeHandle socket, int how) => Result(Sys.Shutdown(socket, how));

    public static unsafe long GetOption(SafeHandle socket, int level, int name, Span<byte> value, out int valueLength)
    {
        var length = (uint)value.Length;
        long r;
        fixed (byte* v = value) r = Result(Sys.Getsockopt(socket, level, name, v, &length));
        valueLength = r < 0 ? 0 : (int)length;
        return r;
    }

    public static unsafe long SetOption(SafeHandle socket, int level, int name, ReadOnlySpan<byte> value)
    {
        fixed (byte* v = value) return Result(Sys.Setsockopt(socket, level, name, v, (uint)value.Length));
    }

    /// <summary>The socket's own address (<paramref name="peer"/> false) or its peer's; the full length in <paramref name="addressLength"/>.</summary>
    public static unsafe long Name(SafeHandle socket, bool peer, Span<byte> address, out int addressLength)
    {
        var length = (uint)address.Length;
        long r;
        fixed (byte* a = address) r = Result(peer ? Sys.Getpeername(socket, a, &length) : Sys.Getsockname(socket, a, &length));
        addressLength = r < 0 ? 0 : (int)length;
        return r;
    }

    /// <summary>bind with the program's address bytes (a socket made at home for a moved process).</summary>
    public static unsafe long Bind(SafeHandle socket, ReadOnlySpan<byte> address)
    {
        fixed (byte* a = address) return Result(Sys.Bind(socket, address.IsEmpty ? null : a, (uint)address.Length));
    }

    /// <summary>connect as the socket's mode makes it: EINPROGRESS on a non-blocking one (the caller waits and asks
    /// SO_ERROR, as the kernel's blocking connect does inside).</summary>
    public static unsafe long Connect(SafeHandle socket, ReadOnlySpan<byte> address)
    {
        fixed (byte* a = address) return Result(Sys.Connect(socket, address.IsEmpty ? null : a, (uint)address.Length));
    }

    public static long Listen(SafeHandle socket, int backlog) => Result(Sys.Listen(socket, backlog));

    /// <summary>A connection taken from a listening socket (close-on-exec here; <paramref name="nonBlocking"/> as
    /// accept4's SOCK_NONBLOCK), or the negated errno in <paramref name="error"/>.</summary>
    public static unsafe SafeFileHandle? Accept(SafeHandle socket, bool nonBlocking, Span<byte> address, out int addressLength, out long error)
    {
        var length = (uint)address.Length;
        SafeFileHandle handle;
        var flags = (int)OpenFlags.CloseOnExec | (nonBlocking ? ONonBlock : 0);
        fixed (byte* a = address) handle = Sys.Accept4(socket, address.IsEmpty ? null : a, address.IsEmpty ? null : &length, flags);
        if (handle.IsInvalid)
        {
            error = -(long)Errno.Last;
            addressLength = 0;
            handle.Dispose();
            return null;
        }
        error = 0;
        addressLength = (int)length;
        return handle;
    }

    /// <summary>ioctl with its argument in <paramref name="argument"/> (read and written by the kernel), or with
    /// <paramref name="value"/> itself as the argument when <paramref name="argument"/> is empty.</summary>
    public static unsafe long IoControl(SafeHandle fd, uint request, Span<byte> argument, long value)
    {
        fixed (byte* p = argument) return Result(Sys.Ioctl(fd, request, argument.IsEmpty ? (void*)value : p));
    }

    /// <summary>Another descriptor of the same open file (close-on-exec), or null with the negated errno in <paramref name="error"/>.</summary>
    public static SafeFileHandle? Duplicate(SafeHandle fd, out long error)
    {
        var copy = Sys.FcntlDuplicate(fd, Sys.F_DUPFD_CLOEXEC, 0);
        if (!copy.IsInvalid)
        {
            error = 0;
            return copy;
        }
        error = -(long)Errno.Last;
        copy.Dispose();
        return null;
    }

    /// <summary>Waits up to <paramref name="timeoutMs"/> for the descriptor to be readable (or writable); true when it
    /// is, or when it is in a state a call would report at once (hung up, an error).</summary>
    public static bool WaitReady(SafeFileHandle fd, bool write, int timeoutMs) =>
        write ? Readiness.WaitWritable(fd, TimeSpan.FromMilliseconds(timeoutMs)) : Readiness.WaitReadable(fd, TimeSpan.FromMilliseconds(timeoutMs));
}
