namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    internal const int LOCK_EX = 2;

    [LibraryImport(Libraries.Libc, EntryPoint = "flock", SetLastError = true)]
    internal static partial int Flock(SafeHandle fd, int operation);
}
