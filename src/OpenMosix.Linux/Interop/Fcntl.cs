namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    internal const int F_DUPFD_CLOEXEC = 1030, F_SETFL = 4, F_SETPIPE_SZ = 1031, F_GETPIPE_SZ = 1032;

    // fcntl is variadic in C; an int third argument passes the same way on x86_64.
    [LibraryImport(Libraries.Libc, EntryPoint = "fcntl", SetLastError = true)]
    internal static partial int Fcntl(SafeHandle fd, int command, int argument);

    /// <summary>The commands that make a new descriptor (F_DUPFD_CLOEXEC): it, or an invalid handle (-1) on failure.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "fcntl", SetLastError = true)]
    internal static partial SafeFileHandle FcntlDuplicate(SafeHandle fd, int command, int lowest);
}
