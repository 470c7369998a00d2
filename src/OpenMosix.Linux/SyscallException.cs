using System.Runtime.InteropServices;

namespace OpenMosix.Linux;

/// <summary>A system call failed; the message names the call, the errno name and the kernel's text for it.</summary>
public class SyscallException : Exception
{
    public SyscallException(string syscall, int errno)
        : base($"{syscall} failed: {Errno.Name(errno)} ({Marshal.GetPInvokeErrorMessage(errno)})")
    {
        Syscall = syscall;
        ErrorNumber = errno;
    }

    public SyscallException(string syscall, int errno, string context)
        : base($"{context}: {syscall} failed: {Errno.Name(errno)} ({Marshal.GetPInvokeErrorMessage(errno)})")
    {
        Syscall = syscall;
        ErrorNumber = errno;
    }

    public string Syscall { get; }
    public int ErrorNumber { get; }

    /// <summary>Throws for the errno of the last P/Invoke made with SetLastError.</summary>
    public static SyscallException FromLastError(string syscall) => new(syscall, Marshal.GetLastPInvokeError());
}

/// <summary>The process does not exist (ESRCH) or could not be accessed (EPERM/EACCES): a one-line user error.</summary>
public sealed class ProcessAccessException(int pid, string reason) : Exception($"process {pid}: {reason}")
{
    public int Pid { get; } = pid;
}
