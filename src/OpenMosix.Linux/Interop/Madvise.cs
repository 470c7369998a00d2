namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    internal const int MADV_DONTNEED = 4;

    [LibraryImport(Libraries.Libc, EntryPoint = "madvise", SetLastError = true)]
    internal static partial int Madvise(nint address, nuint length, int advice);
}
