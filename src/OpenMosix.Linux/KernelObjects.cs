namespace OpenMosix.Linux;

/// <summary>What a registration of an epoll instance still refers to, compared with the descriptor of its number.</summary>
public enum EpollTargetState
{
    /// <summary>The descriptor of that number is the very file registered.</summary>
    Same,
    /// <summary>The number now names another file (the registered one was closed and the number reused).</summary>
    Different,
    /// <summary>No descriptor of that number is open (the registered file lives on through a duplicate).</summary>
    Closed,
}

/// <summary>Questions about eventfd, timerfd, epoll and memfd objects that fdinfo does not answer.</summary>
public static class KernelObjects
{
    private const int F_GET_SEALS = 1034;
    private const nuint TFD_IOC_SET_TICKS = 0x40085400;

    /// <summary>
    /// Whether registration number <paramref name="occurrence"/> (0 for the first) of descriptor number
    /// <paramref name="targetFd"/> in epoll instance <paramref name="epollFd"/> of process <paramref name="pid"/> is the
    /// file the process has open under that number now (kcmp KCMP_EPOLL_TFD).
    /// </summary>
    public static unsafe EpollTargetState EpollTarget(int pid, int epollFd, int targetFd, int occurrence)
    {
        var slot = new KcmpEpollSlot { Epoll = (uint)epollFd, TargetFd = (uint)targetFd, TargetOffset = (uint)occurrence };
        var r = Sys.KcmpEpollTarget(pid, targetFd, &slot);
        if (r == 0) return EpollTargetState.Same;
        if (r > 0) return EpollTargetState.Different;
        var errno = Errno.Last;
        return errno == Errno.EBADF ? EpollTargetState.Closed : throw new SyscallException("kcmp(KCMP_EPOLL_TFD)", errno, $"pid {pid} epoll fd {epollFd} target {targetFd}");
    }

    /// <summary>Whether descriptors <paramref name="fd1"/> and <paramref name="fd2"/> of a process share one open file
    /// description (dup'ed: kcmp KCMP_FILE).</summary>
    public static bool SameOpenFile(int pid, int fd1, int fd2)
    {
        var r = Sys.KcmpFile(pid, fd1, fd2);
        return r >= 0 ? r == 0 : throw new SyscallException("kcmp(KCMP_FILE)", Errno.Last, $"pid {pid} fds {fd1} and {fd2}");
    }

    /// <summary>Whether a descriptor of one process and one of another share one open file description (inherited
    /// across fork, or passed: kcmp KCMP_FILE).</summary>
    public static bool SameOpenFile(int pid1, int fd1, int pid2, int fd2)
    {
        var r = Sys.KcmpFile(pid1, fd1, pid2, fd2);
        return r >= 0 ? r == 0 : throw new SyscallException("kcmp(KCMP_FILE)", Errno.Last, $"pid {pid1} fd {fd1} and pid {pid2} fd {fd2}");
    }

    /// <summary>Whether two processes share one address space (a vfork child before its exec, CLONE_VM) and whether
    /// they share one descriptor table (CLONE_FILES): kcmp KCMP_VM and KCMP_FILES.</summary>
    public static (bool Memory, bool Descriptors) Shares(int pid1, int pid2)
    {
        var vm = Sys.KcmpResource(pid1, pid2, Sys.KCMP_VM);
        var files = Sys.KcmpResource(pid1, pid2, Sys.KCMP_FILES);
        if (vm < 0 || files < 0) throw new SyscallException("kcmp(KCMP_VM/KCMP_FILES)", Errno.Last, $"pids {pid1} and {pid2}");
        return (vm == 0, files == 0);
    }

    /// <summary>The seals of a memfd (F_GET_SEALS); a memfd made without MFD_ALLOW_SEALING has F_SEAL_SEAL (1).</summary>
    public static int Seals(SafeFileHandle memfd)
    {
        var seals = Sys.Fcntl(memfd, F_GET_SEALS, 0);
        return seals >= 0 ? seals : throw SyscallException.FromLastError("fcntl(F_GET_SEALS)");
    }

    /// <summary>
    /// The ranges of a file below <paramref name="size"/> that hold data (SEEK_DATA/SEEK_HOLE): a sparse memfd of
    /// terabytes with a few pages written is read as those pages only.
    /// </summary>
    public static List<(long Offset, long Length)> DataRanges(SafeFileHandle file, long size)
    {
        var ranges = new List<(long, long)>();
        for (long at = 0; at < size;)
        {
            var data = Sys.Lseek(file, at, Sys.SEEK_DATA);
            if (data < 0)
            {
                if (Errno.Last == Errno.ENXIO) break; // only a hole is left
                throw SyscallException.FromLastError("lseek(SEEK_DATA)");
            }
            if (data >= size) break;
            var hole = Sys.Lseek(file, data, Sys.SEEK_HOLE);
            if (hole < 0) throw SyscallException.FromLastError("lseek(SEEK_HOLE)");
            hole = Math.Min(hole, size);
            ranges.Add((data, hole - data));
            at = hole;
        }
        return ranges;
    }

    /// <summary>Sets the count of unread expirations of a timerfd (TFD_IOC_SET_TICKS, a checkpoint/restore ioctl).</summary>
    public static unsafe void SetTimerTicks(SafeFileHandle timerfd, ulong ticks)
    {
        if (Sys.Ioctl(timerfd, TFD_IOC_SET_TICKS, &ticks) < 0) throw SyscallException.FromLastError("ioctl(TFD_IOC_SET_TICKS)");
    }
}
