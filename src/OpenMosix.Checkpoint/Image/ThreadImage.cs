namespace OpenMosix.Checkpoint.Image;

/// <summary>
/// One thread other than the main one: everything the kernel keeps per thread. The main thread's registers, mask,
/// rseq, robust list, cached tid and nice are where a single-threaded image has them (<see cref="ProcessImage.Cpu"/>,
/// <see cref="SignalState.BlockedMask"/>, <see cref="ProcessImage.Rseq"/>, <see cref="ProcessAttributes"/>); what
/// version 1 did not save of it is in <see cref="ProcessImage.MainThread"/>.
/// </summary>
public sealed class ThreadImage
{
    /// <summary>Its thread id where it was taken: restored with the same id where that id is free.</summary>
    public required int Tid { get; init; }
    /// <summary>struct user_regs_struct, already adjusted for syscall restart (fs_base is its TLS).</summary>
    public required byte[] GeneralRegisters { get; init; }
    public required byte[] ExtendedState { get; init; }
    public ulong BlockedMask { get; init; }
    /// <summary>Signals queued for this thread alone (tgkill, pthread_kill, a fault); process-wide ones are in <see cref="SignalState.Pending"/>.</summary>
    public List<PendingSignal> Pending { get; init; } = [];
    public RseqRegistration? Rseq { get; init; }
    public ulong RobustListHead { get; init; }
    public ulong RobustListLength { get; init; }
    /// <summary>Address of glibc's cached thread id in its TCB if it held the tid (fixed when the tid changes).</summary>
    public ulong CachedTidAddress { get; init; }
    public int Nice { get; init; }
    public ThreadSettings Settings { get; init; } = new();
}

/// <summary>Per-thread settings a thread can only read and set for itself, and its scheduling class.</summary>
public sealed class ThreadSettings
{
    /// <summary>Its comm (at most 15 bytes); empty for the main thread, whose name is <see cref="ImageOrigin.Command"/>.</summary>
    public string Name { get; init; } = "";
    /// <summary>sigaltstack: null when none is set (SS_DISABLE).</summary>
    public AlternateStack? AlternateStack { get; init; }
    /// <summary>clear_child_tid (set_tid_address): zeroed and futex-woken at thread exit, what pthread_join waits on.</summary>
    public ulong ClearChildTid { get; init; }
    /// <summary>SCHED_OTHER 0, FIFO 1, RR 2, BATCH 3, IDLE 5; and the real-time priority for FIFO/RR.</summary>
    public int SchedulingPolicy { get; init; }
    public int RealtimePriority { get; init; }
    /// <summary>Its capabilities, securebits, no_new_privs and seccomp filters (version 3).</summary>
    public Privileges Privileges { get; init; } = new();
}

/// <summary>A stack_t: where signal handlers that ask for it run. Flags hold SS_AUTODISARM as set; SS_ONSTACK is not kept.</summary>
public sealed record AlternateStack(ulong Base, ulong Size, int Flags);
