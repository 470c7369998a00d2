namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    internal const int AF_UNIX = 1, SOCK_STREAM = 1;

    /// <summary>Fills fds[0] and fds[1] with the two ends of a connected pair.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "socketpair", SetLastError = true)]
    internal static unsafe partial int Socketpair(int domain, int type, int protocol, int* fds);
}
