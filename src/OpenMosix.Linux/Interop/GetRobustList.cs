namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    private const long SYS_get_robust_list = 274;

    // glibc has no wrapper; syscall() is variadic but takes integer arguments in registers on x86_64.
    [LibraryImport(Libraries.Libc, EntryPoint = "syscall", SetLastError = true)]
    private static unsafe partial long Syscall3(long number, long a1, ulong* a2, ulong* a3);

    internal static unsafe long GetRobustList(int pid, ulong* head, ulong* length) => Syscall3(SYS_get_robust_list, pid, head, length);
}
