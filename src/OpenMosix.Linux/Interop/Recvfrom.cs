namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "recvfrom", SetLastError = true)]
    internal static unsafe partial nint Recvfrom(SafeHandle socket, byte* buffer, nuint length, int flags, byte* address, uint* addressLength);
}
