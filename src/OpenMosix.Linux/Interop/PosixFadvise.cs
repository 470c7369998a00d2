namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    internal const int POSIX_FADV_DONTNEED = 4;

    /// <summary>Returns the error number itself (0 on success): posix_fadvise does not set errno.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "posix_fadvise")]
    internal static partial int PosixFadvise(SafeHandle fd, long offset, long length, int advice);
}
