namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "read", SetLastError = true)]
    internal static unsafe partial nint Read(SafeHandle fd, byte* buffer, nuint count);
}
