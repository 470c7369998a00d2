namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "ioctl", SetLastError = true)]
    internal static unsafe partial int Ioctl(SafeHandle fd, nuint request, void* argument);
}
