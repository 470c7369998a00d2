namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "bind", SetLastError = true)]
    internal static unsafe partial int Bind(SafeHandle socket, SockAddrNetlink* address, uint length);
}
