namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "pread64", SetLastError = true)]
    internal static unsafe partial nint Pread(SafeHandle fd, byte* buffer, nuint count, long offset);
}
