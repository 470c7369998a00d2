namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "pwrite64", SetLastError = true)]
    internal static unsafe partial nint Pwrite(SafeHandle fd, byte* buffer, nuint count, long offset);
}
