namespace OpenMosix.Checkpoint.Tracing;

/// <summary>x86_64 system call numbers used by injection.</summary>
internal static class SyscallNumbers
{
    public const long Read = 0, Close = 3, Lseek = 8, Mmap = 9, Mprotect = 10, Munmap = 11, Brk = 12,
        RtSigaction = 13, Mremap = 25, Getitimer = 36, Setitimer = 38, Nanosleep = 35, Chdir = 80, Umask = 95,
        Setgroups = 116, Setresuid = 117, Setresgid = 119, Setfsuid = 122, Setfsgid = 123, RtSigtimedwait = 128, RtSigqueueinfo = 129, Personality = 135, Prctl = 157,
        SetTidAddress = 218, RestartSyscall = 219, SetRobustList = 273, Openat = 257, Dup3 = 292, Pipe2 = 293, Fcntl = 72,
        RtTgsigqueueinfo = 297, Prlimit64 = 302, Rseq = 334, Pause = 34, Madvise = 28, Userfaultfd = 323,
        Ftruncate = 77, Fchmod = 91, EpollCtl = 233, TimerfdCreate = 283, TimerfdSettime = 286, Signalfd4 = 289, Eventfd2 = 290,
        EpollCreate1 = 291, MemfdCreate = 319, Mkdirat = 258, Fallocate = 285, CloseRange = 436;
    // Threads: their creation on restore and what only a thread can say or set of itself.
    public const long Clone3 = 435, Sigaltstack = 131, SchedSetscheduler = 144, Exit = 60, Gettid = 186, Membarrier = 324;
    // Process trees: children made by their parents, their sessions and groups, and exited children.
    public const long Execve = 59, Kill = 62, Setpgid = 109, Setsid = 112, Getpgid = 121, ExitGroup = 231;
    public const long MadvPopulateWrite = 23;

    public const long FDupFdCloexec = 1030, FSetFd = 2, FGetFl = 3, FSetFl = 4;

    public const long ProtRead = 1, ProtWrite = 2, ProtExec = 4;
    public const long MapShared = 0x01, MapPrivate = 0x02, MapFixed = 0x10, MapAnonymous = 0x20, MapGrowsDown = 0x100,
        MapFixedNoReplace = 0x100000;
    public const long MremapMayMove = 1, MremapFixed = 2;
    public const long AtFdCwd = -100;
    public const long PrSetPdeathsig = 1, PrSetDumpable = 4, PrSetName = 15;
    // Privileges: capabilities, securebits, no_new_privs, seccomp.
    public const long Capset = 126, Seccomp = 317;
    public const long PrGetDumpable = 3, PrCapbsetDrop = 24, PrGetSecurebits = 27, PrSetSecurebits = 28, PrSetNoNewPrivs = 38, PrCapAmbient = 47;
    public const long PrCapAmbientRaise = 2, PrCapAmbientClearAll = 4;
    public const long SeccompSetModeFilter = 1, SeccompFilterFlagTsync = 1, SeccompFilterFlagLog = 2;
}
