namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "fstat", SetLastError = true)]
    internal static unsafe partial int Fstat(SafeHandle fd, byte* buffer);
}
