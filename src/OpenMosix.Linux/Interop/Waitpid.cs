namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "waitpid", SetLastError = true)]
    internal static partial int Waitpid(int pid, out int status, int options);
}
