namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    internal const uint SYNC_FILE_RANGE_WAIT_BEFORE = 1, SYNC_FILE_RANGE_WRITE = 2, SYNC_FILE_RANGE_WAIT_AFTER = 4;

    [LibraryImport(Libraries.Libc, EntryPoint = "sync_file_range", SetLastError = true)]
    internal static partial int SyncFileRange(SafeHandle fd, long offset, long count, uint flags);
}
