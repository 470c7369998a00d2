namespace OpenMosix.Linux.Interop;

internal static partial class Sys
{
    [LibraryImport(Libraries.Libc, EntryPoint = "prlimit64", SetLastError = true)]
    internal static unsafe partial int Prlimit(int pid, int resource, RLimit* newLimit, RLimit* oldLimit);
}
