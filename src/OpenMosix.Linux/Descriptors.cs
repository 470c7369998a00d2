namespace OpenMosix.Linux;

/// <summary>Descriptor helpers that .NET does not offer: pipes without FileStream, memfd, flock.</summary>
public static class Descriptors
{
    /// <summary>A close-on-exec pipe: (read end, write end).</summary>
    public static unsafe (SafeFileHandle Read, SafeFileHandle Write) CreatePipe()
    {
        var fds = stackalloc int[2];
        if (Sys.Pipe2(fds, OpenFlags.CloseOnExec) < 0) throw SyscallException.FromLastError("pipe2");
        return (new SafeFileHandle(fds[0], true), new SafeFileHandle(fds[1], true));
    }

    /// <summary>
    /// Asks for a pipe of <paramref name="bytes"/> (F_SETPIPE_SZ, rounded up by the kernel to a power of two pages);
    /// returns the size it has, which stays as it was where the kernel refuses (over an unprivileged user's limit).
    /// </summary>
    public static int TryResizePipe(SafeFileHandle end, int bytes)
    {
        var size = Sys.Fcntl(end, Sys.F_SETPIPE_SZ, bytes);
        return size > 0 ? size : Sys.Fcntl(end, Sys.F_GETPIPE_SZ, 0);
    }

    /// <summary>
    /// Makes a pipe hold at least <paramref name="bytes"/> (F_SETPIPE_SZ), never less than it already does (a pipe its
    /// owner made larger stays so); returns the size it has, or 0 when <paramref name="end"/> is not a pipe (a terminal,
    /// a file), which is left as it is.
    /// </summary>
    public static int TryGrowPipe(SafeFileHandle end, int bytes)
    {
        var size = Sys.Fcntl(end, Sys.F_GETPIPE_SZ, 0);
        if (size <= 0) return 0;
        return size >= bytes ? size : TryResizePipe(end, bytes);
    }

    /// <summary>An anonymous in-memory file (close-on-exec) holding <paramref name="contents"/>.</summary>
    public static unsafe SafeFileHandle CreateMemoryFile(string name, ReadOnlySpan<byte> contents)
    {
        var handle = Sys.MemfdCreate(name, Sys.MFD_CLOEXEC).OrThrow("memfd_create");
        fixed (byte* p = contents)
        {
            for (var done = 0; done < contents.Length;)
            {
                var n = Sys.Write(handle, p + done, (nuint)(contents.Length - done));
                if (n < 0) throw SyscallException.FromLastError("write(memfd)");
                done += (int)n;
            }
        }
        return handle;
    }

    /// <summary>write(2) until everything is written (works on pipes, which .NET's RandomAccess refuses).</summary>
    public static unsafe void WriteAll(SafeFileHandle fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            for (var done = 0; done < data.Length;)
            {
                var n = Sys.Write(fd, p + done, (nuint)(data.Length - done));
                if (n < 0)
                {
                    var errno = Errno.Last;
                    if (errno == Errno.EINTR) continue;
                    throw new SyscallException("write", errno);
                }
                done += (int)n;
            }
        }
    }

    /// <summary>One read(2) of at most <paramref name="buffer"/>.Length bytes; 0 at end of file. Retries EINTR.</summary>
    public static unsafe int Read(SafeFileHandle fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var n = Sys.Read(fd, p, (nuint)buffer.Length);
                if (n >= 0) return (int)n;
                var errno = Errno.Last;
                if (errno != Errno.EINTR) throw new SyscallException("read", errno);
            }
        }
    }

    /// <summary>A second descriptor (close-on-exec) for the same open file description.</summary>
    public static SafeFileHandle Duplicate(SafeFileHandle fd) =>
        Sys.FcntlDuplicate(fd, Sys.F_DUPFD_CLOEXEC, 0).OrThrow("fcntl(F_DUPFD_CLOEXEC)");

    /// <summary>Opens a file with raw open(2) flags (close-on-exec added).</summary>
    public static SafeFileHandle Open(string path, OpenFlags flags, int mode = 0) =>
        Sys.Open(path, flags | OpenFlags.CloseOnExec, mode).OrThrow("open", path);

    public static void LockExclusive(SafeFileHandle file)
    {
        if (Sys.Flock(file, Sys.LOCK_EX) < 0) throw SyscallException.FromLastError("flock(LOCK_EX)");
    }
}
