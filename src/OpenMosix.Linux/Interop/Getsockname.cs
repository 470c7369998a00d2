namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "getsockname", SetLastError = true)]
    internal static unsafe partial int Getsockname(SafeHandle socket, byte* address, uint* length);
}
