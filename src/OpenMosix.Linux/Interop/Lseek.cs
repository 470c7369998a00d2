namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    internal const int SEEK_DATA = 3, SEEK_HOLE = 4;

    [LibraryImport(Libraries.Libc, EntryPoint = "lseek", SetLastError = true)]
    internal static partial long Lseek(SafeHandle fd, long offset, int whence);
}
