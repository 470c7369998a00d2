namespace OpenMosix.Linux;

/// <summary>A system call failed; the message names the call, the errno name and the kernel's text for it.</summary>
public class SyscallException : Exception
{
    public SyscallException(string syscall, Errno error)
        : base($"{syscall} failed: {error.Describe()}")
    {
        Syscall = syscall;
        Error = error;
    }

    public SyscallException(string syscall, Errno error, string context)
        : base($"{context}: {syscall} failed: {error.Describe()}")
    {
        Syscall = syscall;
        Error = error;
    }

    public string Syscall { get; }
    public Errno Error { get; }

    /// <summary>Throws for the errno of the last P/Invoke made with SetLastError.</summary>
    public static SyscallException FromLastError(string syscall) => new(syscall, Errno.Last);
}

/// <summary>The process does not exist (ESRCH) or could not be accessed (EPERM/EACCES): a one-line user error.</summary>
public sealed class ProcessAccessException(int pid, string reason) : Exception($"process {pid}: {reason}")
{
    public int Pid { get; } = pid;
}
