namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "send", SetLastError = true)]
    internal static unsafe partial nint Send(SafeHandle socket, byte* buffer, nuint length, int flags);
}
