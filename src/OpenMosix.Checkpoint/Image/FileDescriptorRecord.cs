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
    /// For a pipe whose both ends the process holds (<see cref="FileKind.InternalPipe"/>): the bytes buffered in it
    /// at dump time, carried once, on the record of its lowest read-end descriptor.
    /// </summary>
    public byte[] PipeContents { get; init; } = [];
    /// <summary>
    /// For eventfd, timerfd, signalfd, epoll and memfd descriptors: the lowest other descriptor of the process that
    /// shares this one's open file description (it was dup'ed); this one is then rebuilt as a duplicate of that one.
    /// </summary>
    public int? DuplicateOf { get; init; }
    public EventFdRecord? EventFd { get; init; }
    public TimerFdRecord? TimerFd { get; init; }
    public SignalFdRecord? SignalFd { get; init; }
    public EpollRecord? Epoll { get; init; }
    public MemfdRecord? Memfd { get; init; }
}

public enum FileKind
{
    RegularFile,
    Directory,
    /// <summary>A terminal (tty/pty): attached to the restorer's own terminal.</summary>
    Terminal,
    /// <summary>A pipe or FIFO: attached to the restorer's stdio of the same number.</summary>
    Pipe,
    /// <summary>
    /// A pipe whose read and write ends are both held by the process itself (a self-pipe, as xz and event loops
    /// use for signals): rebuilt as a new pipe with the same buffered bytes, on any descriptor numbers.
    /// </summary>
    InternalPipe,
    /// <summary>/dev/null, /dev/zero, /dev/urandom, /dev/random, /dev/full: reopened by path.</summary>
    SafeCharDevice,
    /// <summary>anon_inode:[eventfd]: rebuilt with eventfd2 and its counter (<see cref="FileDescriptorRecord.EventFd"/>).</summary>
    EventFd,
    /// <summary>anon_inode:[timerfd]: rebuilt with timerfd_create, re-armed, unread expirations kept.</summary>
    TimerFd,
    /// <summary>anon_inode:[signalfd]: rebuilt with signalfd4 on its mask.</summary>
    SignalFd,
    /// <summary>anon_inode:[eventpoll]: rebuilt after every other descriptor, its registrations replayed.</summary>
    Epoll,
    /// <summary>/memfd:NAME (deleted): a new memfd with the same name, contents, size, offset and seals.</summary>
    Memfd,
    /// <summary>
    /// A descriptor that cannot be recreated elsewhere (a socket, a pipe or FIFO on fd 3 and up whose other end the
    /// process does not hold, a deleted file): it stays open at home in the deputy, the copy holds a placeholder under
    /// its number, and its calls on it are carried out at home (docs/forwarding.md).
    /// </summary>
    Forwarded,
}
