namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    internal const int AF_NETLINK = 16;
    internal const int SOCK_DGRAM = 2;
    internal const int SOCK_CLOEXEC = 0x80000;
    internal const int NETLINK_CONNECTOR = 11;

    /// <summary>An invalid handle (-1) when the call fails.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "socket", SetLastError = true)]
    internal static partial SafeFileHandle Socket(int domain, int type, int protocol);
}
