namespace OpenMosix.Checkpoint.Image;

/// <summary>
/// Everything needed to rebuild one process and all its threads, except its memory contents, which travel after this
/// metadata as a stream of <see cref="PageRun"/>s so that an image never has to be held whole in memory.
/// </summary>
public sealed class ProcessImage
{
    public required ImageOrigin Origin { get; init; }
    public required CpuState Cpu { get; init; }
    public required SignalState Signals { get; init; }
    public required ProcessAttributes Attributes { get; init; }
    public IntervalTimers Timers { get; init; } = new();
    public RseqRegistration? Rseq { get; init; }
    public List<MemoryRegion> Regions { get; init; } = [];
    public List<FileDescriptorRecord> Files { get; init; } = [];
    /// <summary>The main thread's settings that have no place above (alternate stack, clear_child_tid, scheduling class).</summary>
    public ThreadSettings MainThread { get; init; } = new();
    /// <summary>Every thread but the main one, in the order of /proc/PID/task.</summary>
    public List<ThreadImage> Threads { get; init; } = [];

    /// <summary>Set when this image completes a pre-copy: it can only be restored over the pre-copied process.</summary>
    public PrecopyDelta? Precopy { get; init; }

    /// <summary>Bytes of page contents that follow the metadata (sum of all page runs).</summary>
    public ulong StoredPageBytes { get; set; }
}

/// <summary>Where and what the image was taken from; also what a restoring node must match.</summary>
public sealed class ImageOrigin
{
    public required int Pid { get; init; }
    public required string Command { get; init; }
    public string ExecutablePath { get; init; } = "";
    public List<string> Arguments { get; init; } = [];
    public string Hostname { get; init; } = "";
    /// <summary>uname -r and -v: vdso/vvar layout and syscall behaviour must match on restore.</summary>
    public string KernelRelease { get; init; } = "";
    public string KernelVersion { get; init; } = "";
    /// <summary>CPU feature flags from /proc/cpuinfo that glibc keys its ifunc choice on (sorted, space-separated).</summary>
    public string CpuFeatures { get; init; } = "";
    public DateTimeOffset TakenAt { get; init; }
}

public sealed class CpuState
{
    /// <summary>struct user_regs_struct (27 × 8 bytes), already adjusted for syscall restart.</summary>
    public required byte[] GeneralRegisters { get; init; }
    /// <summary>PTRACE_GETREGSET NT_X86_XSTATE as returned by the kernel (FPU, SSE, AVX, AVX-512 as present).</summary>
    public required byte[] ExtendedState { get; init; }
}

public sealed class SignalState
{
    public ulong BlockedMask { get; init; }
    /// <summary>Index 0 is signal 1. Default actions are stored too so that the array is always 64 long.</summary>
    public required SignalAction[] Actions { get; init; }
    public List<PendingSignal> Pending { get; init; } = [];
    /// <summary>The signal of the group-stop (^Z, SIGSTOP) the process was in when taken, 0 when it ran: the restored
    /// process is stopped the same way until SIGCONT. Absent from older images: 0.</summary>
    public int StoppedBy { get; init; }
}

/// <summary>The kernel's struct sigaction for x86_64 rt_sigaction.</summary>
public readonly record struct SignalAction(ulong Handler, ulong Flags, ulong Restorer, ulong Mask);

/// <summary>A queued signal: the raw 128-byte siginfo, and whether it was process-wide (shared) or thread-private.</summary>
public sealed record PendingSignal(bool Shared, byte[] SigInfo)
{
    public int Number => BitConverter.ToInt32(SigInfo, 0);
}

/// <summary>Remaining time and interval of ITIMER_REAL, ITIMER_VIRTUAL and ITIMER_PROF, in microseconds.</summary>
public sealed class IntervalTimers
{
    public TimerValue Real { get; init; }
    public TimerValue Virtual { get; init; }
    public TimerValue Profiling { get; init; }
}

public readonly record struct TimerValue(long IntervalMicroseconds, long ValueMicroseconds)
{
    public bool IsArmed => ValueMicroseconds != 0;
}

public sealed record RseqRegistration(ulong Address, uint Length, uint Signature, uint Flags);

public sealed class ProcessAttributes
{
    public string WorkingDirectory { get; init; } = "/";
    public uint Umask { get; init; }
    public ulong Personality { get; init; }
    public Credentials Credentials { get; init; } = new();
    /// <summary>RLIMIT_* in kernel order (16 entries): soft, hard; ulong.MaxValue is RLIM_INFINITY.</summary>
    public List<ResourceLimit> Limits { get; init; } = [];
    public ulong StartBrk { get; init; }
    public ulong Brk { get; init; }
    public ulong StartStack { get; init; }
    /// <summary>Raw /proc/PID/auxv: the program's own copy lives on its stack and is restored with it.</summary>
    public byte[] Auxv { get; init; } = [];
    /// <summary>Address of glibc's cached thread id in the TCB, if it held the PID (to fix when the PID changes).</summary>
    public ulong CachedTidAddress { get; init; }
    public ulong RobustListHead { get; init; }
    public ulong RobustListLength { get; init; }
    /// <summary>The nice value; restored so that the process gets the same share of a CPU wherever it runs.</summary>
    public int Nice { get; init; }
    /// <summary>The membarrier(2) MEMBARRIER_CMD_REGISTER_* commands the process had issued (a bit mask).</summary>
    public int MembarrierRegistrations { get; init; }
    /// <summary>Parent death signal (PR_GET_PDEATHSIG).</summary>
    public int ParentDeathSignal { get; init; }
    /// <summary>PR_GET_DUMPABLE (version 3): 0 keeps its memory and /proc files from its own uid; restored as it was.</summary>
    public int Dumpable { get; init; }
    /// <summary>
    /// /proc/PID/oom_score_adj, so that a job its owner offered to the OOM killer first (or kept from it) is treated so
    /// on every node. Absent from older images: 0, the kernel's default.
    /// </summary>
    public int OomScoreAdjust { get; init; }
    /// <summary>Its process group where it was taken (0 in older images): a program that cached that number (a shell,
    /// its own group) names its group so after a move, where the group has another number.</summary>
    public int ProcessGroup { get; init; }
}

public sealed class Credentials
{
    public uint Uid { get; init; }
    public uint EffectiveUid { get; init; }
    public uint SavedUid { get; init; }
    public uint FilesystemUid { get; init; }
    public uint Gid { get; init; }
    public uint EffectiveGid { get; init; }
    public uint SavedGid { get; init; }
    public uint FilesystemGid { get; init; }
    public List<uint> Groups { get; init; } = [];
}

public readonly record struct ResourceLimit(ulong Soft, ulong Hard);
