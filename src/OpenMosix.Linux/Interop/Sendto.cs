namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "sendto", SetLastError = true)]
    internal static unsafe partial nint Sendto(SafeHandle socket, byte* buffer, nuint length, int flags, byte* address, uint addressLength);
}
