namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "setpriority", SetLastError = true)]
    internal static partial int SetPriority(int which, uint who, int priority);
}
