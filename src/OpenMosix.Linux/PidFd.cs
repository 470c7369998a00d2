using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using OpenMosix.Linux.Interop;

namespace OpenMosix.Linux;

/// <summary>A pidfd: a stable handle on a process that cannot be confused with a later process of the same PID.</summary>
public sealed class PidFd : SafeHandleZeroOrMinusOneIsInvalid
{
    private PidFd() : base(ownsHandle: true) { }

    public int Pid { get; private init; }

    public static PidFd Open(int pid)
    {
        var fd = Sys.PidfdOpen(pid, 0);
        if (fd < 0)
        {
            var errno = Errno.Last;
            if (errno == Errno.ESRCH) throw new ProcessAccessException(pid, "no such process");
            throw new SyscallException("pidfd_open", errno, $"pid {pid}");
        }
        var handle = new PidFd { Pid = pid };
        handle.SetHandle(fd);
        return handle;
    }

    /// <summary>Duplicates the process's descriptor <paramref name="targetFd"/> into this process (close-on-exec).</summary>
    public SafeFileHandle GetFd(int targetFd)
    {
        var fd = Sys.PidfdGetfd(this, targetFd, 0);
        if (fd < 0) throw new SyscallException("pidfd_getfd", Errno.Last, $"pid {Pid} fd {targetFd}");
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    public void SendSignal(int signal)
    {
        if (Sys.PidfdSendSignal(this, signal, 0, 0) < 0)
            throw new SyscallException("pidfd_send_signal", Errno.Last, $"pid {Pid}");
    }

    protected override bool ReleaseHandle() => Sys.Close((int)handle) == 0;
}
