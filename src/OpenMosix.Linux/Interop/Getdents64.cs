namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    // glibc 2.36 exports getdents64 itself (the raw call: linux_dirent64 records, not readdir's buffering).
    [LibraryImport(Libraries.Libc, EntryPoint = "getdents64", SetLastError = true)]
    internal static unsafe partial nint Getdents64(SafeHandle fd, byte* buffer, nuint count);
}
