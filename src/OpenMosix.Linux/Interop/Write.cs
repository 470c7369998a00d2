namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "write", SetLastError = true)]
    internal static unsafe partial nint Write(SafeHandle fd, byte* buffer, nuint count);
}
