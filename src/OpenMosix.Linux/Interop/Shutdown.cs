namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "shutdown", SetLastError = true)]
    internal static partial int Shutdown(SafeHandle socket, int how);
}
