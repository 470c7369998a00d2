namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "bind", SetLastError = true)]
    internal static unsafe partial int Bind(SafeHandle socket, SockAddrNetlink* address, uint length);

    /// <summary>bind with an address as the program gave it (a forwarded bind: raw sockaddr bytes).</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "bind", SetLastError = true)]
    internal static unsafe partial int Bind(SafeHandle socket, byte* address, uint length);
}
