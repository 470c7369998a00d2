namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    internal const int MSG_DONTWAIT = 0x40;

    [LibraryImport(Libraries.Libc, EntryPoint = "recv", SetLastError = true)]
    internal static unsafe partial nint Recv(SafeHandle socket, byte* buffer, nuint length, int flags);
}
