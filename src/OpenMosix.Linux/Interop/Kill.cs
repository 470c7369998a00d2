namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "kill", SetLastError = true)]
    internal static partial int Kill(int pid, int signal);
}
