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
    private static readonly Lazy<SafeFileHandle> DevNull = new(() => Descriptors.Open("/dev/null", OpenFlags.WriteOnly | OpenFlags.CloseOnExec));

    /// <summary>
    /// Takes at most <paramref name="count"/> bytes out of the head of the pipe <paramref name="readEnd"/> without
    /// copying them anywhere (splice(2) into /dev/null) and without waiting: how many (0 once its writers are gone and it
    /// is empty), or a negated errno (EAGAIN: empty now).
    /// </summary>
    public static long Discard(SafeFileHandle readEnd, long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var n = Sys.Splice(readEnd, 0, DevNull.Value, 0, (nuint)count, Sys.SPLICE_F_NONBLOCK);
        return n >= 0 ? n : -(long)Errno.Last;
    }

    /// <summary>The pipe's capacity (F_GETPIPE_SZ), or a negated errno.</summary>
    public static int Capacity(SafeFileHandle end) => Sys.Fcntl(end, Sys.F_GETPIPE_SZ, 0) is var n and >= 0 ? n : -(int)Errno.Last;

    /// <summary>Sets the pipe's capacity to at least <paramref name="bytes"/> (F_SETPIPE_SZ); what it is now, or a negated errno.</summary>
    public static int Grow(SafeFileHandle end, int bytes) => Sys.Fcntl(end, Sys.F_SETPIPE_SZ, bytes) is var n and >= 0 ? n : -(int)Errno.Last;

    /// <summary>
    /// Copies into <paramref name="into"/> the bytes of the pipe <paramref name="readEnd"/> that follow its first
    /// <paramref name="skip"/>, without taking any out of it: tee(2) copies its head into <paramref name="scratch"/> (an
    /// empty pipe of ours, at least as large), whose first <paramref name="skip"/> bytes are thrown away. How many, or a
    /// negated errno (EAGAIN: nothing past them now). The scratch pipe is empty again on return.
    /// </summary>
    public static unsafe long CopyAfter(SafeFileHandle readEnd, (SafeFileHandle Read, SafeFileHandle Write) scratch, int skip, Span<byte> into)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        var copied = Sys.Tee(readEnd, scratch.Write, (nuint)(skip + into.Length), Sys.SPLICE_F_NONBLOCK);
        if (copied < 0) return -(long)Errno.Last;
        var thrown = (int)Math.Min(copied, skip);
        // The copies of bytes peeked before go to /dev/null by splice: page references dropped, no byte copied (read
        // into a buffer, up to a MiB was copied for nothing per peek).
        for (var done = 0; done < thrown;)
        {
            var n = Discard(scratch.Read, thrown - done);
            if (n <= 0) throw new SyscallException("splice", n < 0 ? Errno.FromNegated(n) : Errno.EIO, "throwing away a pipe copy's head");
            done += (int)n;
        }
        var wanted = (int)(copied - thrown);
        if (wanted == 0) return -(long)Errno.EAGAIN;
        fixed (byte* p = into)
        {
            for (var done = 0; done < wanted;)
            {
                var n = Sys.Read(scratch.Read, p + done, (nuint)(wanted - done));
                if (n <= 0) throw SyscallException.FromLastError("read(pipe copy)");
                done += (int)n;
            }
        }
        return wanted;
    }
}
