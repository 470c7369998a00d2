namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    internal const int SOL_SOCKET = 1;
    /// <summary>SO_RCVBUFFORCE: a receive buffer above rmem_max, for CAP_NET_ADMIN.</summary>
    internal const int SO_RCVBUFFORCE = 33;

    [LibraryImport(Libraries.Libc, EntryPoint = "setsockopt", SetLastError = true)]
    internal static unsafe partial int Setsockopt(SafeHandle socket, int level, int name, void* value, uint length);
}
