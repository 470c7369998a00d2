namespace OpenMosix.Linux;

/// <summary>Reads what sits in a pipe's buffer without taking it out (tee(2) into a pipe of our own).</summary>
public static class PipePeek
{
    /// <summary>Largest pipe the kernel allows by default (/proc/sys/fs/pipe-max-size).</summary>
    private const int MaxPipeBytes = 1 << 20;
    private const nuint FIONREAD = 0x541B;

    /// <summary>How many bytes sit in the pipe now, unread (FIONREAD; either end of the pipe answers).</summary>
    public static unsafe int Unread(SafeFileHandle end)
    {
        int queued;
        if (Sys.Ioctl(end, FIONREAD, &queued) != 0) throw SyscallException.FromLastError("ioctl(FIONREAD)");
        return queued;
    }

    public static unsafe byte[] BufferedBytes(SafeFileHandle readEnd)
    {
        var (ourRead, ourWrite) = Descriptors.CreatePipe();
        using (ourRead)
        using (ourWrite)
        {
            if (Sys.Fcntl(ourWrite, Sys.F_SETPIPE_SZ, MaxPipeBytes) < 0) throw SyscallException.FromLastError("fcntl(F_SETPIPE_SZ)");
            var copied = Sys.Tee(readEnd, ourWrite, MaxPipeBytes, Sys.SPLICE_F_NONBLOCK);
            if (copied < 0)
            {
                var errno = Errno.Last;
                if (errno == Errno.EAGAIN) return []; // empty
                throw new SyscallException("tee", errno, "peeking into a pipe");
            }
            var bytes = new byte[copied];
            fixed (byte* p = bytes)
            {
                for (nint done = 0; done < copied;)
                {
                    var n = Sys.Read(ourRead, p + done, (nuint)(copied - done));
                    if (n <= 0) throw SyscallException.FromLastError("read(pipe copy)");
                    done += n;
                }
            }
            return bytes;
        }
    }
}
