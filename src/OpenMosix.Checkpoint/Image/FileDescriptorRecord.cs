namespace OpenMosix.Checkpoint.Image;

/// <summary>One open file descriptor of the process.</summary>
public sealed class FileDescriptorRecord
{
    public required int Fd { get; init; }
    public required FileKind Kind { get; init; }
    /// <summary>The readlink of /proc/PID/fd/N ("/path", "pipe:[123]", "/dev/pts/3").</summary>
    public required string Path { get; init; }
    /// <summary>Open flags from fdinfo (O_ACCMODE, O_APPEND, O_NONBLOCK, ...), octal in fdinfo, stored as int.</summary>
    public int Flags { get; init; }
    public long Offset { get; init; }
    public bool CloseOnExec { get; init; }
    /// <summary>Identity and size of a regular file at dump time, to detect a different file at restore.</summary>
    public ulong Device { get; init; }
    public ulong Inode { get; init; }
    public long Size { get; init; }
    /// <summary>
    /// A pipe whose read and write ends are both held by this process (a self-pipe, e.g. for signal wake-ups):
    /// rebuilt as a new empty pipe; <see cref="Inode"/> pairs its ends.
    /// </summary>
    public bool PrivatePipe { get; init; }
}

public enum FileKind
{
    RegularFile,
    Directory,
    /// <summary>A terminal (tty/pty): attached to the restorer's own terminal.</summary>
    Terminal,
    /// <summary>A pipe or FIFO: attached to the restorer's stdio of the same number.</summary>
    Pipe,
    /// <summary>/dev/null, /dev/zero, /dev/urandom, /dev/random, /dev/full: reopened by path.</summary>
    SafeCharDevice,
}
