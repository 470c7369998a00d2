namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    internal const int PROT_READ = 1;
    internal const int MAP_SHARED = 1;
    internal static readonly nint MAP_FAILED = -1;

    [LibraryImport(Libraries.Libc, EntryPoint = "mmap", SetLastError = true)]
    internal static partial nint Mmap(nint address, nuint length, int protection, int flags, SafeHandle fd, long offset);
}
