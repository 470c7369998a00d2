namespace OpenMosix.Linux;

/// <summary>A pidfd: a stable handle on a process that cannot be confused with a later process of the same PID.</summary>
public sealed class PidFd : SafeHandleZeroOrMinusOneIsInvalid
{
    /// <summary>For the interop marshaller, which makes the handle an import returns; use <see cref="Open"/>.</summary>
    public PidFd() : base(ownsHandle: true) { }

    public int Pid { get; private set; }

    public static PidFd Open(int pid)
    {
        var handle = Sys.PidfdOpen(pid, 0);
        if (handle.IsInvalid && Errno.Last == Errno.ESRCH)
        {
            handle.Dispose();
            throw new ProcessAccessException(pid, "no such process");
        }
        _ = handle.OrThrow("pidfd_open", $"pid {pid}");
        handle.Pid = pid;
        return handle;
    }

    /// <summary>Duplicates the process's descriptor <paramref name="targetFd"/> into this process (close-on-exec).</summary>
    public SafeFileHandle GetFd(int targetFd) =>
        Sys.PidfdGetfd(this, targetFd, 0).OrThrow("pidfd_getfd", $"pid {Pid} fd {targetFd}");

    public void SendSignal(int signal)
    {
        if (Sys.PidfdSendSignal(this, signal, 0, 0) < 0)
            throw new SyscallException("pidfd_send_signal", Errno.Last, $"pid {Pid}");
    }

    /// <summary>
    /// Whether the process is still there, running or a zombie not yet reaped, as kill(pid, 0) tells, but never of a
    /// later process handed the same PID: restorers rewind the PID allocator (ns_last_pid), so a PID just reaped can
    /// name another process at once.
    /// </summary>
    public bool Exists => Sys.PidfdSendSignal(this, 0, 0, 0) == 0 || Errno.Last == Errno.EPERM;

    /// <summary>Whether the process has ended (a zombie or reaped): the pidfd polls readable from its exit on.</summary>
    public unsafe bool HasEnded
    {
        get
        {
            var entry = new PollFd { Fd = (int)DangerousGetHandle(), Events = Sys.POLLIN };
            return Sys.Poll(&entry, 1, 0) > 0;
        }
    }

    /// <summary>Sends <paramref name="signal"/> unless the process is already reaped (then false).</summary>
    public bool TrySendSignal(int signal)
    {
        if (Sys.PidfdSendSignal(this, signal, 0, 0) == 0) return true;
        var errno = Errno.Last;
        return errno == Errno.ESRCH ? false : throw new SyscallException("pidfd_send_signal", errno, $"pid {Pid}");
    }

    protected override bool ReleaseHandle() => Sys.Close((int)handle) == 0;
}
