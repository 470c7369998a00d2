namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);
}
