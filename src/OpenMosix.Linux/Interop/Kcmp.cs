namespace OpenMosix.Linux.Interop;

/// <summary>struct kcmp_epoll_slot: which registration of epoll descriptor Epoll to compare against.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KcmpEpollSlot
{
    public uint Epoll, TargetFd, TargetOffset;
}

internal static partial class Sys
{
    private const long SYS_kcmp = 312;
    internal const int KCMP_FILE = 0, KCMP_VM = 1, KCMP_FILES = 2, KCMP_EPOLL_TFD = 7;

    // glibc has no wrapper; syscall() is variadic but takes integer arguments in registers on x86_64.
    [LibraryImport(Libraries.Libc, EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall6(long number, long a1, long a2, long a3, long a4, nint a5);

    internal static unsafe long KcmpEpollTarget(int pid, int fd, KcmpEpollSlot* slot) =>
        Syscall6(SYS_kcmp, pid, pid, KCMP_EPOLL_TFD, fd, (nint)slot);

    internal static long KcmpFile(int pid, int fd1, int fd2) => Syscall6(SYS_kcmp, pid, pid, KCMP_FILE, fd1, fd2);

    internal static long KcmpFile(int pid1, int fd1, int pid2, int fd2) => Syscall6(SYS_kcmp, pid1, pid2, KCMP_FILE, fd1, fd2);

    /// <summary>kcmp of a whole resource of two processes (KCMP_VM, KCMP_FILES): 0 when they share it.</summary>
    internal static long KcmpResource(int pid1, int pid2, int type) => Syscall6(SYS_kcmp, pid1, pid2, type, 0, 0);
}
