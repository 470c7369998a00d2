namespace OpenMosix.Checkpoint.Image;

/// <summary>An eventfd: its counter (up to 2^64-2) and whether it was made with EFD_SEMAPHORE.</summary>
public sealed class EventFdRecord
{
    public ulong Count { get; init; }
    public bool Semaphore { get; init; }
}

/// <summary>
/// A timerfd. Its time left is stored relative (monotonic and boot clocks are node-local); a CLOCK_REALTIME timer
/// armed with TFD_TIMER_ABSTIME also keeps its absolute deadline, which means the same instant on every node.
/// </summary>
public sealed class TimerFdRecord
{
    /// <summary>CLOCK_REALTIME 0, CLOCK_MONOTONIC 1, CLOCK_BOOTTIME 7, CLOCK_REALTIME_ALARM 8, CLOCK_BOOTTIME_ALARM 9.</summary>
    public int ClockId { get; init; }
    /// <summary>The flags of its last timerfd_settime: TFD_TIMER_ABSTIME 1, TFD_TIMER_CANCEL_ON_SET 2.</summary>
    public int SettimeFlags { get; init; }
    /// <summary>Expirations not read yet: a read after restore returns them.</summary>
    public ulong Ticks { get; init; }
    /// <summary>Nanoseconds until it fires next; 0 with no interval: disarmed.</summary>
    public long RemainingNanoseconds { get; init; }
    public long IntervalNanoseconds { get; init; }
    /// <summary>For TFD_TIMER_ABSTIME on a realtime clock: the next expiry in nanoseconds since the epoch (else 0).</summary>
    public long AbsoluteNanoseconds { get; init; }
}

/// <summary>A signalfd: the signals it reads (bit N-1 for signal N).</summary>
public sealed class SignalFdRecord
{
    public ulong Mask { get; init; }
}

/// <summary>An epoll instance and what it watches. Rebuilt after every other descriptor of the process.</summary>
public sealed class EpollRecord
{
    public List<EpollRegistration> Registrations { get; init; } = [];
}

/// <summary>One epoll_ctl(EPOLL_CTL_ADD) to replay: the descriptor number, its events as the kernel holds them
/// (EPOLLET, EPOLLONESHOT, EPOLLEXCLUSIVE included; a fired one-shot has no event bits left) and the user data.</summary>
public sealed class EpollRegistration
{
    public int TargetFd { get; init; }
    public uint Events { get; init; }
    public ulong Data { get; init; }
}

/// <summary>
/// A memfd (memfd_create): name, size, mode, seals and the ranges that hold data. The contents travel on the record
/// of the first descriptor of the memfd; another open of the same memfd (through /proc/PID/fd) names that one in
/// <see cref="SameMemoryAs"/> and carries none.
/// </summary>
public sealed class MemfdRecord
{
    /// <summary>The name given to memfd_create (without the "memfd:" prefix the kernel adds).</summary>
    public string Name { get; init; } = "";
    public long Size { get; init; }
    /// <summary>The permission bits (memfds start as 0777; MFD_NOEXEC_SEAL makes them 0666).</summary>
    public uint Mode { get; init; }
    /// <summary>F_GET_SEALS; F_SEAL_SEAL (1) alone means a memfd made without MFD_ALLOW_SEALING.</summary>
    public int Seals { get; init; }
    public int? SameMemoryAs { get; init; }
    /// <summary>The ranges that hold data, ascending; everything else reads as zeros.</summary>
    public List<MemfdExtent> Contents { get; init; } = [];
}

public sealed class MemfdExtent
{
    public long Offset { get; init; }
    public byte[] Data { get; init; } = [];
}
