namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "getsockopt", SetLastError = true)]
    internal static unsafe partial int Getsockopt(SafeHandle socket, int level, int name, byte* value, uint* length);
}
