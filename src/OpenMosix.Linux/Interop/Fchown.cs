namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "fchown", SetLastError = true)]
    internal static partial int Fchown(SafeFileHandle fd, int owner, int group);
}
