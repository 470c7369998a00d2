namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "getpeername", SetLastError = true)]
    internal static unsafe partial int Getpeername(SafeHandle socket, byte* address, uint* length);
}
